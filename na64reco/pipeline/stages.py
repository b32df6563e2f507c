"""Adapters from the chain's ``EventState`` to the library pieces, one per step.

Each stage is built once per process (templates, maps and fitters loaded up front, the
run-dependent description cached per run) and reports whether its library piece is part of
this build; a missing piece becomes a ``MissingStage``.

    fit        na64reco.detector (maps) + na64reco.waveform (templates, WaveformFitter)
    calo       na64reco.calo.reconstruct_calo (calibration, clusters, event variables)
    straw      na64reco.straw.reconstruct_straws (r(t), points, segment)
    trigger    na64reco.firmware (emulation of the trigger on the recorded windows)
    selection  the cut flow (na64reco.selection when present, else the job's [cuts])
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ..columns import Columns
from ..config import JobConfig
from . import status as st
from .chain import EventState, Stage

__all__ = ["default_stages", "MissingStage", "template_for_plane", "SADC_PLANE_NAMES"]

# SADC plane numbers (docs/data-model.md).
SADC_PLANE_NAMES = ("ECAL0", "ECAL1", "HCAL0", "HCAL1", "HCAL2", "HCAL3", "VETO", "SRD", "S1", "S2", "S3", "S4", "V1", "V2")
_TEMPLATE_OF_PLANE = ("ecal", "ecal", "hcal", "hcal", "hcal", "hcal", "veto", "srd")


def template_kind(plane: int) -> str:
    return _TEMPLATE_OF_PLANE[plane] if 0 <= plane < len(_TEMPLATE_OF_PLANE) else "counter"


def template_for_plane(plane: int, template_dir: str = "") -> Path:
    """The pulse template file of an SADC plane (docs/data-model.md plane numbers)."""
    base = Path(template_dir) if template_dir else Path(__file__).resolve().parent.parent / "data" / "templates"
    return base / f"{template_kind(plane)}.txt"


class MissingStage:
    """A step whose library module is not in this build: it only marks the events."""

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self.module = module

    def available(self) -> bool:
        return False

    def __call__(self, state: EventState) -> None:
        raise RuntimeError(f"stage {self.name!r} needs {self.module}, which this build lacks")


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _run_of(state: EventState, config: JobConfig) -> int:
    """The run whose detector description serves the batch (a chunk lies in one file)."""
    runs = state.columns["run"]
    return int(runs[0]) if runs.size else 0


class _PerRun:
    """Caches a run-dependent object (maps, calibration, geometry) by run number."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._cache: dict[int, Any] = {}

    def __call__(self, run: int) -> Any:
        if run not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[run] = self._build(run)
        return self._cache[run]


def _split_runs(state: EventState) -> list[tuple[int, np.ndarray]]:
    """(run, event rows) for each run present in the batch (almost always one)."""
    runs = state.columns["run"]
    values = np.unique(runs)
    if values.size <= 1:
        return [(int(values[0]) if values.size else 0, np.arange(runs.size))]
    return [(int(r), np.flatnonzero(runs == r)) for r in values]


class FitStage:
    """Annotate MSADC digits with (plane, x, y) and fit them with their detector's template."""

    name = "fit"

    def __init__(self, config: JobConfig) -> None:
        from ..detector import load_setup
        from ..waveform import WaveformFitter, load_template

        self.config = config
        wf = config["waveform"]
        data_dir = config["detector"]["data_dir"] or None
        self.setup = _PerRun(lambda run: load_setup(run, data_dir=data_dir))
        self.min_amplitude = float(wf["min_amplitude"])
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
                **timing,
            )

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        if state.n == 0:
            return
        sadc = state.raw.sadc
        run = _run_of(state, self.config)
        digits = self.setup(run).annotate_sadc(sadc)
        plane = digits["plane"]
        kinds = np.array([template_kind(int(p)) for p in range(len(SADC_PLANE_NAMES))] + ["unmapped"])
        kind_of_digit = kinds[np.where(plane >= 0, plane, len(SADC_PLANE_NAMES))] if plane.size else np.zeros(0, kinds.dtype)
        from ..calo.fit_bounds import suspects_of_fit, template_peak_floor

        if self.zero_suppress > 0 and plane.size:
            kind_of_digit = np.where(_sample_span(digits["samples"], digits["nsamples"]) < self.zero_suppress, "quiet", kind_of_digit)
        parts: list[dict[str, np.ndarray]] = []
        suspect = np.zeros(plane.size, bool)
        peak_floor = np.ones(plane.size)
        wave_flags = np.zeros(plane.size, np.uint32)
        wave_chi2 = np.full(plane.size, np.nan)
        for kind, fitter in self.fitters.items():
            rows = np.flatnonzero(kind_of_digit == kind)
            if not rows.size:
                continue
            res = fitter.fit(digits["samples"][rows], nsamples=digits["nsamples"][rows])
            wave_flags[rows] = res.waves["flags"]
            wave_chi2[rows] = res.waves["chi2"]
            p = res.pulses
            # doubtful fits: the calo stage bounds / re-measures those cells from the samples
            suspect[rows] = suspects_of_fit(kind, res.waves, p)
            peak_floor[rows] = template_peak_floor(fitter.template)
            keep = p["amplitude"] >= self.min_amplitude
            digit = rows[p["wave"][keep]]
            parts.append({"digit": digit, "amplitude": p["amplitude"][keep], "time_ns": p["time_ns"][keep]})
        if parts:
            digit = np.concatenate([q["digit"] for q in parts])
            order = np.argsort(digit, kind="stable")
            digit = digit[order]
            amplitude = np.concatenate([q["amplitude"] for q in parts])[order]
            time_ns = np.concatenate([q["time_ns"] for q in parts])[order]
        else:
            digit = np.zeros(0, np.int64)
            amplitude = np.zeros(0)
            time_ns = np.zeros(0)
        from ..calo.fit_bounds import channel_pedestal, suspect_table
        from ..waveform import FLAGS

        event = digits["event"][digit]
        pulses = Columns(
            event=event.astype(np.int64),
            plane=plane[digit],
            x=digits["x"][digit],
            y=digits["y"][digit],
            amplitude=amplitude,
            time_ns=time_ns,
            digit=digit.astype(np.int64),
        )
        state.extras["digits"] = digits
        state.extras["pulses"] = pulses
        state.extras["suspects"] = suspect_table(
            digits, np.arange(plane.size), suspect, peak_floor, channel_pedestal(digits) if plane.size else None
        )
        n = state.n
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
            chi2=wave_chi2[digit],
        )


def _sample_span(samples: np.ndarray, nsamples: np.ndarray) -> np.ndarray:
    """max - min of each row's recorded samples (a cheap test for "no pulse here")."""
    width = samples.shape[1]
    if nsamples.size and int(nsamples.min()) == width:
        return samples.max(axis=1).astype(np.int32) - samples.min(axis=1).astype(np.int32)
    recorded = np.arange(width)[None, :] < nsamples[:, None]
    hi = np.where(recorded, samples, 0).max(axis=1).astype(np.int32)
    lo = np.where(recorded, samples, np.iinfo(np.uint16).max).min(axis=1).astype(np.int32)
    return np.where(nsamples > 0, hi - lo, 0)


class CaloStage:
    """Calibrated cells, ECAL clusters and the calorimeter event variables."""

    name = "calo"

    def __init__(self, config: JobConfig) -> None:
        from ..calo import CaloConfig

        self.config = config
        data_dir = config["detector"]["data_dir"] or None
        self.calibration = _PerRun(lambda run: calo_calibration(run, data_dir))
        from ..calo.fit_bounds import BOUND_PLANES, REFIT_PLANES
        from ..waveform import load_template

        template_dir = config["waveform"]["template_dir"]

        def templates(planes: dict[str, str]) -> dict[str, Any]:
            return {p: load_template(str(Path(template_dir) / f"{k}.txt") if template_dir else k) for p, k in planes.items()}

        self.calo_config = CaloConfig(
            pileup_threshold_mev=1000.0, refit_templates=templates(REFIT_PLANES), bound_templates=templates(BOUND_PLANES)
        )

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        from ..calo import plane_presence, reconstruct_calo

        if state.n == 0:
            return
        pulses = state.extras.get("pulses")
        digits = state.extras.get("digits")
        if pulses is None or digits is None:
            state.flag(st.STAGE_MISSING)
            return
        n = state.n
        cols = state.columns
        cell_rows: list[Columns] = []
        cluster_rows: list[Columns] = []
        for run, rows in _split_runs(state):
            calib = self.calibration(run)
            layout = calib.layout
            suspects = state.extras.get("suspects")
            if rows.size == n:
                sub_p, sub_d, sub_s = pulses, digits, suspects
                index = rows
            else:
                remap = np.full(n, -1, np.int64)
                remap[rows] = np.arange(rows.size)
                sub_p = pulses.take(remap[pulses["event"]] >= 0)
                sub_p = sub_p.with_columns(event=remap[sub_p["event"]])
                sub_d = digits.take(remap[digits["event"]] >= 0)
                sub_d = sub_d.with_columns(event=remap[sub_d["event"]])
                sub_s = None
                if suspects is not None:
                    sub_s = suspects.take(remap[suspects["event"]] >= 0)
                    sub_s = sub_s.with_columns(event=remap[sub_s["event"]])
                index = rows
            present = plane_presence(sub_d["event"], sub_d["plane"], rows.size, len(layout.planes))
            res = reconstruct_calo(sub_p, rows.size, calib, spills=cols["spill"][rows], present=present, config=self.calo_config,
                                  suspects=sub_s)
            ev = res.events
            for name in ("e_ecal", "e_prs", "e_hcal", "e_veto", "e_srd", "ecal_x", "ecal_y", "e_ecal_3x3", "ecal_chi2", "hcal_r"):
                cols[name][index] = ev[name]
            cols["pileup"][index] = ev["pileup"]
            cols["e_pileup"][index] = ev["e_pileup"]
            cols["ecal_max_x"][index] = ev["ecal_max_x"]
            cols["ecal_max_y"][index] = ev["ecal_max_y"]
            cols["master_time"][index] = ev["master_time_ns"]
            cols["n_clusters"][index] = ev["ecal_nclusters"]
            cols["calo_status"][index] = ev["calo_status"]
            for name in ("e_bad", "ecal_chi2_ndf", "veto_max", "srd_min", "calo_missing", "e_ecal_max", "e_hcal_max",
                         "veto_max_bound"):
                cols[name][index] = ev[name]
            # cells with in-time energy: dense (event, cell) -> sparse rows
            e_rows, cells = np.nonzero(res.e_in > 0)
            begin = layout.begin
            p = np.searchsorted(begin, cells, side="right") - 1
            ny = np.array([q[2] for q in layout.planes])[p]
            local = cells - begin[p]
            cell_rows.append(
                Columns(
                    row=index[e_rows],
                    plane=p.astype(np.int16),
                    x=(local // ny).astype(np.int16),
                    y=(local % ny).astype(np.int16),
                    energy=res.e_in[e_rows, cells],
                    time=res.t_cell[e_rows, cells],
                )
            )
            cl = res.clusters
            cluster_rows.append(
                Columns(
                    row=index[cl["event"]],
                    energy=cl["energy"],
                    x=cl["x"],
                    y=cl["y"],
                    ncells=cl["n_cells"].astype(np.int16),
                    pileup=cl["pileup"],
                )
            )
        state.jagged["cells"] = _sorted_by_row(Columns.concatenate(cell_rows))
        state.jagged["clusters"] = _sorted_by_row(Columns.concatenate(cluster_rows))
        state.flag(st.PILEUP, cols["pileup"])
        state.flag(st.NO_ECAL, (cols["calo_status"] & 1) != 0)


def calo_calibration(run: int, data_dir: str | None = None) -> Any:
    """The calorimeter calibration of a run: gains and LED corrections from the detector
    description (``na64reco.detector``), time means and widths from the calorimeter's file."""
    from ..calo import calibration_from_setup
    from ..detector import load_setup

    return calibration_from_setup(run, setup=load_setup(run, data_dir=data_dir))


def _sorted_by_row(t: Columns) -> Columns:
    rows = t["row"]
    if rows.size > 1 and np.any(rows[1:] < rows[:-1]):
        return t.take(np.argsort(rows, kind="stable"))
    return t


class StrawStage:
    """Drift radii, plane clusters, station points and one straight segment per event."""

    name = "straw"

    def __init__(self, config: JobConfig) -> None:
        from ..detector import load_setup
        from ..straw import load_geometry, load_rt

        self.config = config
        rt_file = config["straw"]["rt_file"]
        self.rt = load_rt(rt_file or None)
        self.geometry = _PerRun(lambda run: load_geometry(run))
        data_dir = config["detector"]["data_dir"] or None
        self.setup = _PerRun(lambda run: load_setup(run, data_dir=data_dir))

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        from ..straw import reconstruct_straws

        if state.n == 0:
            return
        tdc = state.raw.tdc
        run = _run_of(state, self.config)
        hits = self.setup(run).annotate_tdc(tdc)
        geometry = self.geometry(run)
        res = reconstruct_straws(
            {"event": hits["event"], "plane": hits["plane"], "layer": hits["layer"], "tube": hits["tube"], "time_ns": hits["time_ns"]},
            state.n,
            geometry,
            self.rt,
        )
        ev = res.events
        cols = state.columns
        cols["n_straw_hits"][:] = ev["straw_hits"]
        cols["straw_max_plane_hits"][:] = ev["straw_max_plane_hits"]
        ok = ev["seg_ok"]
        cols["n_segments"][:] = ok.astype(np.int32)
        for out, src in (("track_x", "seg_x0"), ("track_y", "seg_y0"), ("track_slope_x", "seg_tx"), ("track_slope_y", "seg_ty")):
            cols[out][:] = np.where(ok, ev[src], np.nan)
        state.flag(st.NO_STRAW_SEGMENT, (ev["straw_hits"] > 0) & ~ok)
        state.jagged["straw_hits"] = Columns(
            row=hits["event"].astype(np.int64),
            plane=hits["plane"].astype(np.int16),
            layer=hits["layer"].astype(np.int8),
            tube=hits["tube"].astype(np.int16),
            time=hits["time_ns"].astype(np.float64),
            radius=res.hits["radius"],
        )


class TriggerStage:
    """The C firmware path (na64reco.firmware) on each event's recorded windows.

    Digits are placed in the trigger's channel order from their (plane, x, y); windows are
    built and emulated in blocks so memory stays bounded. ``trigger_emulated`` holds the
    emulated output bits; events whose emulated physics or beam bit differs from the recorded
    one (the low bits of the DATE trigger mask) get ``TRIGGER_MISMATCH``.
    """

    name = "trigger"
    BLOCK = 2048

    def __init__(self, config: JobConfig) -> None:
        from ..firmware import load_trigger_config

        self.config = config
        self.registers = load_trigger_config(config["trigger"]["registers_file"] or None)
        self.enabled = bool(config["trigger"]["emulate"])

    def available(self) -> bool:
        return self.enabled

    def __call__(self, state: EventState) -> None:
        from fpga_model.decision import BIT_BEAM, BIT_PHYSICS

        from ..firmware import emulate_windows
        from ..firmware.compare import trigger_channel

        n = state.n
        digits = state.extras.get("digits")
        if n == 0 or digits is None:
            return
        channel = trigger_channel(list(SADC_PLANE_NAMES), digits["plane"].astype(np.int64),
                                   digits["x"].astype(np.int64), digits["y"].astype(np.int64))
        event = digits["event"]
        bits = np.zeros(n, np.uint64)
        for lo in range(0, n, self.BLOCK):
            hi = min(lo + self.BLOCK, n)
            sel = (event >= lo) & (event < hi) & (channel >= 0)
            windows = _trigger_windows(hi - lo, event[sel] - lo, channel[sel], digits["samples"][sel], digits["nsamples"][sel])
            bits[lo:hi] = emulate_windows(windows, self.registers)["trigger_bits"]
        state.columns["trigger_emulated"][:] = bits
        # The random trigger fires from a generator running over the whole spill: a window
        # emulated from reset cannot reproduce it, so only physics and beam bits are compared.
        compared = np.uint64(BIT_PHYSICS | BIT_BEAM)
        recorded = state.columns["trigger_bits"] & compared
        state.flag(st.TRIGGER_MISMATCH, recorded != (bits & compared))


def _trigger_windows(n_events: int, event: np.ndarray, channel: np.ndarray, samples: np.ndarray, nsamples: np.ndarray) -> np.ndarray:
    """(n_events, N_CHANNELS, 32) uint16 trigger windows, as ``firmware.compare.windows_from_sadc``
    builds them (absent channels flat at 0, short digits extended with their last sample)
    but with one row scatter instead of per-sample indexing."""
    from fpga_model.registers import N_CHANNELS

    width = 32
    win = np.zeros((n_events * N_CHANNELS, width), np.uint16)
    if not event.size:
        return win.reshape(n_events, N_CHANNELS, width)
    s = samples[:, :width]
    if s.shape[1] < width:
        s = np.pad(s, ((0, 0), (0, width - s.shape[1])))
    ns = nsamples.astype(np.int64)
    short = ns < width
    if np.any(short):
        s = s.copy()
        cols = np.arange(width)
        rows = np.flatnonzero(short)
        take = np.minimum(cols[None, :], np.maximum(ns[rows, None] - 1, 0))
        s[rows] = np.take_along_axis(s[rows], take, axis=1)
        s[rows[ns[rows] == 0]] = 0
    win[event * N_CHANNELS + channel] = np.minimum(s, 4095)
    return win.reshape(n_events, N_CHANNELS, width)


class SelectionStage:
    """The cut flow of ``na64reco.selection`` (file from ``[cuts] file``), in file order."""

    name = "selection"

    def __init__(self, config: JobConfig) -> None:
        from ..selection import CutFlow

        self.cutflow = CutFlow.load(config["cuts"]["file"] or None)
        from .batch import EVENT_COLUMNS

        missing = [v for v in self.cutflow.variables if v not in EVENT_COLUMNS]
        if missing:
            from ..config import ConfigError

            raise ConfigError(
                f"cut file {config['cuts']['file'] or 'default'} uses {', '.join(missing)}, which the reco output "
                f"does not have; event columns are {', '.join(EVENT_COLUMNS)}"
            )

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        result = self.cutflow.apply(state.columns)
        ev = result.events
        for cut in self.cutflow.cuts:
            state.cuts[cut.name] = ev[f"pass_{cut.name}"]
        state.columns["in_signal_box"][:] = ev["in_signal_box"]
        state.columns["selected"][:] = ev["selected"]

    def signal_box(self) -> tuple[float, float] | None:
        """(E_ECAL, E_HCAL) upper limits of the box cuts, for drawing."""
        limits: dict[str, float] = {}
        for cut in self.cutflow.cuts:
            if cut.in_box:
                for cond in cut.conditions:
                    if cond.op in ("<", "<=") and cond.variable in ("e_ecal", "e_hcal"):
                        limits[cond.variable] = cond.value
        if "e_ecal" in limits and "e_hcal" in limits:
            return limits["e_ecal"], limits["e_hcal"]
        return None


def default_stages(config: JobConfig) -> list[Stage]:
    """The chain in order: fit, calo, straw, trigger, selection."""
    stages: list[Stage] = []
    have_fit = _has("na64reco.waveform") and _has("na64reco.detector")
    stages.append(FitStage(config) if have_fit else MissingStage("fit", "na64reco.waveform"))
    stages.append(CaloStage(config) if have_fit and _has("na64reco.calo") else MissingStage("calo", "na64reco.calo"))
    stages.append(StrawStage(config) if _has("na64reco.straw") and _has("na64reco.detector") else MissingStage("straw", "na64reco.straw"))
    have_trigger = have_fit and _has("na64reco.firmware") and _has("fpga_model")
    stages.append(TriggerStage(config) if have_trigger else MissingStage("trigger", "na64reco.firmware"))
    stages.append(SelectionStage(config) if _has("na64reco.selection") else MissingStage("selection", "na64reco.selection"))
    return stages
