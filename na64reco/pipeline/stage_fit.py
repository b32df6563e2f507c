"""The fit stage: annotate MSADC digits and fit each with its detector's template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..columns import Columns
from ..config import JobConfig
from . import status as st
from .chain import EventState
from .stage_common import SADC_PLANE_NAMES, template_kind, _run_of, _PerRun


class FitStage:
    """Annotate MSADC digits with (plane, x, y) and fit them with their detector's template."""

    name = "fit"

    def __init__(self, config: JobConfig) -> None:
        from ..calo.fit_options import fit_options
        from ..detector import load_setup
        from ..waveform import WaveformFitter, load_template

        self.config = config
        wf = config["waveform"]
        data_dir = config["detector"]["data_dir"] or None
        self.setup = _PerRun(lambda run: load_setup(run, data_dir=data_dir))
        self.min_amplitude = float(wf["min_amplitude"])
        self.leader_hints = bool(wf["leader_hints"])
        from .stage_calo import calo_calibration

        self.calibration = _PerRun(lambda run: calo_calibration(run, data_dir))
        self.zero_suppress = float(wf["zero_suppress_adc"])
        self.fitters: dict[str, Any] = {}
        timing: dict[str, float] = {}
        if float(config["timing"]["expected_ns"]) >= 0:
            timing = {
                "trigger_time_ns": float(config["timing"]["expected_ns"]),
                "in_time_window_ns": float(config["timing"]["window_ns"]),
            }
        for kind in ("ecal", "hcal", "veto", "srd", "counter"):
            template = load_template(str(Path(wf["template_dir"]) / f"{kind}.txt") if wf["template_dir"] else kind)
            self.fitters[kind] = WaveformFitter(
                template,
                sampling_ns=12.5,
                noise_rms=float(wf["noise_rms"]),
                pileup=bool(wf["pileup"]),
                **{**fit_options(kind), **timing},
            )

    def available(self) -> bool:
        return True

    def _fit(self, kind: str, fitter: Any, digits: Columns, rows: np.ndarray, span: np.ndarray | None,
             lowest: np.ndarray, n_events: int, run: int, clocks: dict[str, Any]) -> list[tuple[np.ndarray, Any]]:
        """The fits of one detector kind's windows ``rows``: [(rows, FitResult)], in parts.
        ``clocks``: the leaders' pulse times of the kinds fitted so far (leader_hints.py),
        this kind's added."""
        from .leader_hints import EXTRA_HINTS, HINTED, LEADER_PLANES

        if kind not in LEADER_PLANES or not self.leader_hints or span is None:
            # the fitted rows read in place: a gathered copy of them (16 MB a 10k-event batch,
            # freshly faulted) cost 1.5 us an event
            return [(rows, fitter.fit(digits["samples"], nsamples=digits["nsamples"], rows=rows))]
        from .leader_hints import fit_with_leader_hints, leaders_of_events, reaches_overflow

        plane = np.asarray(digits["plane"])[rows]
        event = np.asarray(digits["event"])[rows]
        calib = self.calibration(run)
        cell = calib.layout.cell_index(plane, np.asarray(digits["x"])[rows], np.asarray(digits["y"])[rows])
        # (a channel without a finite calibrated delay neither leads nor takes hints)
        time_mean = np.where(cell >= 0, np.asarray(calib.time_mean_ns)[np.maximum(cell, 0)], np.nan)
        timed = np.isfinite(time_mean)
        leading = np.isin(plane, [SADC_PLANE_NAMES.index(p) for p in LEADER_PLANES[kind]]) & timed
        leader = leaders_of_events(event, leading & ~reaches_overflow(span[rows], lowest[rows]), span[rows])
        extra = None
        for source in EXTRA_HINTS.get(kind, ()):
            if source in clocks:
                extra = clocks[source] if extra is None else extra.joined(clocks[source], 0.0)
        parts, clocks[kind] = fit_with_leader_hints(fitter, digits["samples"], digits["nsamples"], rows, event, leader,
                                                    time_mean, n_events, extra, hint_others=kind in HINTED,
                                                    takes_hints=timed)
        return parts

    def _take_fit(self, kind: str, rows: np.ndarray, res: Any, wave_flags: np.ndarray, wave_chi2_ndf: np.ndarray,
                  suspect: np.ndarray, saturated_only: np.ndarray, pulse_digit: list[np.ndarray],
                  pulse_time: list[np.ndarray], found_parts: dict[str, list[dict[str, np.ndarray]]]) -> None:
        """Per-digit results of the fits ``res`` of the digits ``rows`` (in place), the pulses
        of clipped pile-up waveforms, and the kind's pulses of at least min_amplitude."""
        from ..calo.fit_bounds import saturation_only_of_fit, suspects_of_fit
        from ..waveform import FLAGS

        clipped_pileup = FLAGS["saturated"] | FLAGS["pileup"]
        wave_flags[rows] = res.waves["flags"]
        wave_chi2_ndf[rows] = res.waves["chi2"] / np.maximum(res.waves["ndf"], 1)
        p = res.pulses
        of_clipped_pileup = (res.waves["flags"] & clipped_pileup) == clipped_pileup
        if of_clipped_pileup.any():
            mine = of_clipped_pileup[p["wave"]]
            pulse_digit.append(rows[p["wave"][mine]])
            pulse_time.append(p["time_ns"][mine])
        # doubtful fits: the calo stage bounds / re-measures those cells from the samples
        suspect[rows] = suspects_of_fit(kind, res.waves, p)
        saturated_only[rows] = saturation_only_of_fit(kind, res.waves, p)
        keep = p["amplitude"] >= self.min_amplitude
        digit = rows[p["wave"][keep]]
        found_parts.setdefault(kind, []).append({
            "digit": digit, "amplitude": p["amplitude"][keep], "time_ns": p["time_ns"][keep], "time_err": p["time_err"][keep],
            "chi2": np.asarray(res.waves["chi2"])[p["wave"][keep]],
        })

    def _mark_crowded_by_counters(self, digits: Columns, parts: dict[str, dict[str, np.ndarray]],
                                  rows_of_kind: dict[str, np.ndarray], suspect: np.ndarray, n_events: int) -> None:
        """Sets ``suspect`` (per digit, in place) for the fitted waveforms (``rows_of_kind``:
        digit rows by fitter kind) of the kinds in ``fit_bounds.CROWDED_BY_COUNTERS`` in
        events whose counter planes' pulses (``parts``: each kind's fitted pulses, digit,
        amplitude and time_ns) show two particles within the kind's NEAR_PILEUP_NS of its
        expected in-time time (the counters peak 2 ns after the SRD: immaterial at that width)."""
        from ..calo.fit_bounds import CROWDED_BY_COUNTERS, NEAR_PILEUP_NS, crowded_by_counters
        from ..calo.fit_options import fit_options

        plane = np.asarray(digits["plane"])
        event = np.asarray(digits["event"])
        for kind, counter_planes in CROWDED_BY_COUNTERS.items():
            centre = fit_options(kind).get("trigger_time_ns")
            rows = rows_of_kind.get(kind)
            if centre is None or rows is None:
                continue
            indices = [SADC_PLANE_NAMES.index(p) for p in counter_planes]
            # only the kinds that fit those planes hold their pulses
            found = [parts[k] for k in sorted({template_kind(i) for i in indices}) if k in parts]
            columns = ("digit", "time_ns", "amplitude")
            pulses = {c: np.concatenate([q[c] for q in found]) if found else np.zeros(0) for c in columns}
            digit = pulses["digit"].astype(np.int64)
            counters = np.isin(plane[digit], indices)
            crowded = crowded_by_counters(event[digit[counters]], pulses["time_ns"][counters],
                                          pulses["amplitude"][counters], n_events, float(centre), NEAR_PILEUP_NS[kind])
            suspect[rows] |= crowded[event[rows]]

    def __call__(self, state: EventState) -> None:
        if state.n == 0:
            return
        sadc = state.raw.sadc
        run = _run_of(state, self.config)
        digits = self.setup(run).annotate_sadc(sadc)
        plane = digits["plane"]
        # detector kind of each digit as an index into self.fitters (-1: unmapped or quiet)
        kind_names = list(self.fitters)
        kind_of_plane = np.array([kind_names.index(template_kind(p)) for p in range(len(SADC_PLANE_NAMES))] + [-1])
        kind_of_digit = kind_of_plane[np.where(plane >= 0, plane, len(SADC_PLANE_NAMES))] if plane.size else np.zeros(0, np.int64)
        from ..calo.fit_bounds import template_peak_floor
        from ..waveform import FLAGS

        from ..raw import parity_span_and_lowest, sample_range

        # quiet channels hold no pulse: their even and their odd samples each span less than
        # zero_suppress_adc (per ADC phase, so that the pedestal offset of the interleaved
        # ADCs does not count as signal); the smallest recorded sample per digit (the input of
        # the channel pedestals) comes from the same pass
        span = None
        if (self.zero_suppress > 0 or self.leader_hints) and plane.size:
            # (the span also picks the ECAL's leading channels: leader_hints.py)
            span, lowest = parity_span_and_lowest(digits["samples"], digits["nsamples"])
            if self.zero_suppress > 0:
                kind_of_digit = np.where(span < self.zero_suppress, -1, kind_of_digit)
        else:
            lowest, _ = sample_range(digits["samples"], digits["nsamples"])
        parts: dict[str, dict[str, np.ndarray]] = {}  # each kind's fitted pulses (of min_amplitude)
        rows_of_kind: dict[str, np.ndarray] = {}
        # per digit (a batch holds millions: only what later stages read per digit is made per
        # digit, the rest per fitted waveform or per suspect)
        suspect = np.zeros(plane.size, bool)
        saturated_only = np.zeros(plane.size, bool)
        wave_flags = np.zeros(plane.size, np.uint32)
        wave_chi2_ndf = np.zeros(plane.size)
        floor_of_kind = np.ones(len(self.fitters) + 1)  # template peak floor by kind code (-1: last)
        # the pulses of clipped pile-up waveforms (the only ones failed_fits looks at): digit
        # row and time
        pulse_digit: list[np.ndarray] = []
        pulse_time: list[np.ndarray] = []
        found_parts: dict[str, list[dict[str, np.ndarray]]] = {}
        clocks: dict[str, Any] = {}
        from .leader_hints import FIT_ORDER

        codes = {kind: code for code, kind in enumerate(self.fitters)}
        for kind in sorted(self.fitters, key=lambda k: FIT_ORDER.index(k) if k in FIT_ORDER else len(FIT_ORDER)):
            code, fitter = codes[kind], self.fitters[kind]
            kind_rows = np.flatnonzero(kind_of_digit == code)
            if not kind_rows.size:
                continue
            rows_of_kind[kind] = kind_rows
            floor_of_kind[code] = template_peak_floor(fitter.template)
            for rows, res in self._fit(kind, fitter, digits, kind_rows, span, lowest, state.n, run, clocks):
                self._take_fit(kind, rows, res, wave_flags, wave_chi2_ndf, suspect, saturated_only, pulse_digit,
                               pulse_time, found_parts)
        for kind, pieces in found_parts.items():
            parts[kind] = {c: np.concatenate([q[c] for q in pieces]) for c in pieces[0]}
        if parts:
            digit = np.concatenate([q["digit"] for q in parts.values()])
            order = np.argsort(digit, kind="stable")
            digit = digit[order]
            amplitude = np.concatenate([q["amplitude"] for q in parts.values()])[order]
            time_ns = np.concatenate([q["time_ns"] for q in parts.values()])[order]
            time_err = np.concatenate([q["time_err"] for q in parts.values()])[order]
            pulse_chi2 = np.concatenate([q["chi2"] for q in parts.values()])[order]  # the fit of the pulse's waveform
        else:
            digit = np.zeros(0, np.int64)
            amplitude = np.zeros(0)
            time_ns = np.zeros(0)
            time_err = np.zeros(0)
            pulse_chi2 = np.zeros(0)
        # the SRD waveforms of events whose beam counters saw a second particle near the
        # in-time one are doubtful too, however many pulses their own fit found
        self._mark_crowded_by_counters(digits, parts, rows_of_kind, suspect, state.n)
        from ..calo import failed_fits
        from ..calo.fit_bounds import BOUND_PLANES, channel_pedestal, suspect_table

        event = digits["event"][digit]
        pulses = Columns(
            event=event.astype(np.int64),
            plane=plane[digit],
            x=digits["x"][digit],
            y=digits["y"][digit],
            amplitude=amplitude,
            time_ns=time_ns,
            time_err=time_err,  # widens the in-time window of poorly timed small pulses
            digit=digit.astype(np.int64),
            # of a waveform with clipped samples: its time does not refine the master time
            clipped=(wave_flags[digit] & FLAGS["saturated"]) != 0,
        )
        state.extras["digits"] = digits
        state.extras["pulses"] = pulses
        # per digit: fitted at all (a detector's channel with a signal), the fitter's flags and
        # chi2/ndf, doubtful (the calo stage bounds / re-measures it)
        state.extras["waves"] = Columns(fitted=kind_of_digit >= 0, flags=wave_flags, chi2_ndf=wave_chi2_ndf,
                                        suspect=suspect)
        # the channel pedestal of the doubtful fits that the calo stage bounds (ECAL, HCAL,
        # VETO: fit_bounds.BOUND_PLANES and the VETO PMTs) only: a median over each channel
        bounded = np.zeros(len(SADC_PLANE_NAMES) + 1, bool)
        bounded[[i for i, p in enumerate(SADC_PLANE_NAMES) if p in BOUND_PLANES or p == "VETO"]] = True
        suspect_rows = np.flatnonzero(suspect)
        plane_of_suspect = plane[suspect_rows]
        bounds = bounded[np.where(plane_of_suspect >= 0, plane_of_suspect, len(SADC_PLANE_NAMES))]
        pedestal = np.full(suspect_rows.size, np.inf)
        pedestal[bounds] = channel_pedestal(digits, lowest=lowest, rows=suspect_rows[bounds])
        state.extras["suspects"] = suspect_table(
            digits, suspect_rows, np.ones(suspect_rows.size, bool), floor_of_kind[kind_of_digit[suspect_rows]], pedestal,
            saturated_only[suspect_rows],
        )  # fmt: skip
        n = state.n
        # planes with a fit whose energy is unknown (failed, clipped under overlapping pulses,
        # absurd chi2): the calo stage marks them in calo_status (the selection bounds them
        # instead, through the doubtful fits above)
        fitted = np.flatnonzero(kind_of_digit >= 0)
        # every such pulse's digit is a fitted one: its place among them
        pd = np.concatenate(pulse_digit) if pulse_digit else np.zeros(0, np.int64)
        state.extras["failed_planes"] = failed_fits(
            digits, fitted, wave_flags[fitted], n, len(SADC_PLANE_NAMES), chi2_ndf=wave_chi2_ndf[fitted],
            pulse_wave=np.searchsorted(fitted, pd),
            pulse_time_ns=np.concatenate(pulse_time) if pulse_time else np.zeros(0),
        )  # fmt: skip
        ev_of_digit = digits["event"]
        sat = np.bincount(ev_of_digit[(wave_flags & FLAGS["saturated"]) != 0], minlength=n) > 0 if n else np.zeros(0, bool)
        bad = np.bincount(ev_of_digit[(wave_flags & FLAGS["fit_failed"]) != 0], minlength=n) > 0 if n else np.zeros(0, bool)
        state.flag(st.SATURATED, sat)
        state.flag(st.FIT_BAD, bad)
        state.jagged["pulses"] = Columns(
            row=pulses["event"],
            plane=pulses["plane"].astype(np.int16),
            x=pulses["x"].astype(np.int16),
            y=pulses["y"].astype(np.int16),
            amplitude=amplitude,
            time=time_ns,
            chi2=pulse_chi2,
            # amplitude fitted at the time of its event's leading channel (leader_hints.py):
            # the time is the leader's, not measured in this channel
            hinted=(wave_flags[digit] & FLAGS["hinted"]) != 0,
        )

