"""Fitted pulses -> calibrated cells -> ECAL clusters and event-level calorimeter variables.

Energies are MeV inside the C++ core and GeV in the Columns returned here (as NA64 analyses
quote them); positions in mm from the ECAL centre; times in ns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._core import calo as _calo
from ..columns import Columns
from .calibration import CaloCalibration
from .doubtful import energy_maxima, refit_suspects, trusted_suspects_dropped
from .quiet_cells import measure_quiet_neighbours
from .ring_bound import RingBoundConfig, crowded_cells
from .seeded_refit import SeededRefitConfig, seeded_refit
from .layout import CaloLayout
from .status import (
    MEV_PER_GEV,
    STATUS_ECAL_MISSING,
    STATUS_FIT_FAILED,
    STATUS_HCAL_MISSING,
    STATUS_NAMES,
    STATUS_NO_MASTER_TIME,
    STATUS_SRD_MISSING,
    STATUS_VETO_MISSING,
)

__all__ = [
    "CaloConfig",
    "CaloResult",
    "reconstruct_calo",
    "pulses_to_csr",
    "failed_fits",
    "plane_presence",
    "pulse_table",
    "STATUS_ECAL_MISSING",
    "STATUS_HCAL_MISSING",
    "STATUS_VETO_MISSING",
    "STATUS_SRD_MISSING",
    "STATUS_NO_MASTER_TIME",
    "STATUS_FIT_FAILED",
    "STATUS_NAMES",
]



def _default_cluster_config() -> _calo.ClusterConfig:
    return _calo.ClusterConfig()


@dataclass
class CaloConfig:
    """Time windows (in units of each cell's time sigma), master time and clustering."""

    n_sigma: float = 3.0  # in time
    near_sigma: float = 5.0  # between n_sigma and this: ambiguous timing, counted as bad energy
    # cap on the per-pulse time error that widens the window: small pulses (a few ADC counts)
    # are timed to a few ns, and without it 10-40 MeV pre-shower cells fell out of time. With
    # a 3 ns cap the widened windows of a pile-up shower's small neighbour-cell pulses 10-15
    # ns away put several GeV into the ambiguous-timing energy (the timing cut)
    max_time_err_ns: float = 1.5
    # where the trigger particle's beam-counter pulses sit in the window: the trigger
    # position minus the counters' delay (simulated setup: 137.5 - 10 ns), +- the trigger
    # phase jitter (12.5 ns full width); a wider search picks up pile-up counter pulses
    nominal_master_ns: float = 127.5
    master_search_ns: float = 10.0
    # the counters' times are combined by their median: a pile-up pulse a few ns away merges
    # into one counter's fit and drags it, and the median ignores the odd one out
    master_median: bool = True
    # the counter time is refined with the sharper ECAL timing: the ECAL pulses (of at least
    # refine_min_mev) within refine_search_ns of it, the closest one and those within
    # refine_cluster_ns of that one (energy-weighted); () keeps the counter time. A counter
    # fit that merged two particles 20-25 ns apart sits about half-way between them
    refine_master_planes: tuple[str, ...] = ("ECAL0", "ECAL1")
    refine_min_mev: float = 1000.0
    refine_search_ns: float = 12.0
    refine_cluster_ns: float = 2.0
    # ... and only within this of nominal_master_ns, where the trigger timing allows the trigger
    # particle to be (simulated setup: +-6.25 ns phase jitter, plus the ECAL time spread)
    refine_window_ns: float = 8.0
    # which candidate the refinement takes: "counters", the one closest to the counter time;
    # "nominal", the one closest to nominal_master_ns (the trigger particle lies within the
    # phase jitter of it; counters that merged two particles 5-15 ns apart sit between their
    # showers and pick either); "auto", nominal when the counters' times spread over more
    # than refine_spread_ns (a counter merged a second particle), else counters. With
    # "nominal" a background electron of a simulated 5 MHz run reached the signal box: the
    # counters agreed, and a pile-up particle's 16 GeV shower 6.8 ns away, nearer the
    # nominal time, took the master time from its 100 GeV one ("auto": 0 of 300,000)
    refine_anchor: str = "auto"
    refine_spread_ns: float = 0.5
    # The anchor is a shower, not a fragment: its candidates within refine_cluster_ns hold at
    # least refine_min_fraction of the largest candidate shower's energy, and no larger
    # candidate lies within refine_local_ns of it. A 2 GeV pulse that the fit of a 100 GeV
    # shower's central cell hung 5 ns beside it, nearer the nominal time, had taken the master
    # time and put both showers of a background electron out of time; a neighbour cell's fit
    # of two overlapping pulses 13 ns apart, timed between them, had taken it from a signal
    # shower 5 ns away. Simulated 3 MHz runs (bench_reco_sim.py --events 20000
    # --background-events 200000): signal 0.8885 -> 0.8911, background 2 -> 0 of 200,000
    # electrons in the box, the lowest e_ecal_max of those passing every other cut 11 -> 64 GeV.
    refine_min_fraction: float = 0.03
    refine_local_ns: float = 6.0
    # ... and its shower reaches these planes (the main section: a particle's shower does; a
    # pre-shower fit's fragment alone does not: a 1.4 GeV one, 9 % of the shower 7 ns away
    # whose clipped main-section cell was left out, had let a 5 MHz background electron in,
    # bench_reco_sim.py --background-rate-hz 5e6 --seed 7; the 3 MHz signal paid 0.0008)
    refine_main_planes: tuple[str, ...] = ("ECAL1",)
    # pulses of waveforms with clipped samples (the pulses' "clipped" column) refine the master
    # time only where no other candidate does: under overlapping clipped pulses the fitted
    # times follow the fit's split of the samples, several ns off the particles
    refine_skip_clipped: bool = True
    veto_ratio: float = 0.3
    # the SRD only tags the particle (synchrotron photons or not): its small pulses, whose
    # fitted times a pile-up pulse nearby drags most, count out to near_sigma
    srd_near_window: bool = True
    # the energy of ambiguous timing (between n_sigma and near_sigma) may be the trigger
    # particle's: the largest possible in-time energies e_ecal_max / e_hcal_max include it
    bad_energy_in_maxima: bool = True
    pileup_threshold_mev: float = 1000.0  # out-of-time ECAL+HCAL energy that marks pile-up
    # a fitted amplitude beyond this (or not finite) is a failed fit: the pulse is dropped and
    # the event flagged STATUS_FIT_FAILED (12-bit ADCs; saturated pulses extrapolate to ~2x)
    max_amplitude_adc: float = 12000.0
    cluster: _calo.ClusterConfig = field(default_factory=_default_cluster_config)
    # plane name -> pulse template: suspect waveforms of these planes get their in-time
    # energy re-measured at the expected time (fit_bounds.fixed_time_amplitude); meant for
    # planes whose cut needs an in-time signal (SRD), not for those bounded from above
    refit_templates: dict = field(default_factory=dict)
    # the re-measurement lets one pile-up pulse within this of the in-time one share the samples
    # (fit_bounds.fixed_time_amplitude's neighbour_ns; 0 = a straight baseline only)
    refit_neighbour_ns: float = 25.0
    # a suspect fit doubted only for clipped samples (suspects' saturated_only) is trusted when
    # no clipped sample lies within this window around the cell's expected in-time peak
    # (before, after; ns): the samples that fix the in-time amplitude are then all usable
    clip_guard_ns: tuple[float, float] = (25.0, 75.0)
    # plane name -> seeded_refit.SeededPlane: doubtful fits of these planes are fitted again
    # from the pulse times the event's other channels saw (seeded_refit)
    seeded_fitters: dict = field(default_factory=dict)
    seeded: SeededRefitConfig = field(default_factory=SeededRefitConfig)
    # plane name -> pulse template: cells of these planes next to the largest ECAL tower
    # that have no in-time energy are measured at the event's time (quiet_cells), needing
    # reconstruct_calo(..., digits=...); amplitudes from quiet_min_adc count. The cells
    # around a 0.15-0.6 GeV pre-shower deposit hold 1-4 ADC counts each (5-20 MeV): with 4
    # counts they read 0.41 of their true energy and the pre-shower 0.946 of it; with 1
    # count (about 0.7 of the amplitude's noise error) 1.02 and 0.998, and the 3 MHz signal
    # efficiency rose 0.8990 -> 0.9024 (bench_reco_sim.py --events 5000). Pions: pre-shower
    # median 38 -> 60 MeV (noise above 1 count counted), pre-shower cut passed by 5.9 -> 6.3 %
    quiet_templates: dict = field(default_factory=dict)
    quiet_min_adc: float = 1.0
    # plane name -> pulse template: tightens the in-time energy bound of doubtful cells
    # (fit_bounds.amplitude_upper_bound with every sample); others use the peak sample only
    bound_templates: dict = field(default_factory=dict)
    # doubtful cells also bounded by their ring of eight cells' in-time energy (ring_bound)
    ring: RingBoundConfig = field(default_factory=RingBoundConfig)


@dataclass(frozen=True)
class CaloResult:
    events: Columns  # one row per event
    clusters: Columns  # in-time and pile-up clusters, sorted by event
    e_in: np.ndarray  # (n_events, n_cells) MeV
    e_near: np.ndarray
    e_out: np.ndarray
    t_cell: np.ndarray
    n_unmapped: int  # pulses whose (plane, x, y) is not a calorimeter cell


def pulses_to_csr(event: np.ndarray, n_events: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Row order that groups rows by event (stable; None when they already are) and the CSR
    offsets (n_events + 1)."""
    event = np.asarray(event, dtype=np.int64)
    if event.size and (event.min() < 0 or event.max() >= n_events):
        bad = event[(event < 0) | (event >= n_events)][0]
        raise ValueError(f"pulse event index {bad} outside 0..{n_events - 1}")
    order = np.argsort(event, kind="stable") if event.size > 1 and np.any(event[1:] < event[:-1]) else None
    counts = np.bincount(event, minlength=n_events)
    offsets = np.zeros(n_events + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return order, offsets


def plane_presence(event: np.ndarray, plane: np.ndarray, n_events: int, n_planes: int) -> np.ndarray:
    """(n_events, n_planes) bool: the plane had at least one digit in the event."""
    event = np.asarray(event)
    plane = np.asarray(plane)
    present = np.zeros(n_events * n_planes, dtype=bool)
    if not plane.size:
        return present.reshape(n_events, n_planes)
    key = event.astype(np.int64) * n_planes
    key += plane
    # every digit mapped and in range (the usual case): no masks and no gathered copies
    if not (plane.min() >= 0 and plane.max() < n_planes and event.min() >= 0 and event.max() < n_events):
        key = key[(plane >= 0) & (plane < n_planes) & (event >= 0) & (event < n_events)]
    present[key] = True
    return present.reshape(n_events, n_planes)


def failed_fits(
    digits: Mapping[str, np.ndarray],
    wave_rows: np.ndarray,
    flags: np.ndarray,
    n_events: int,
    n_planes: int,
    min_span_adc: float = 50.0,
    saturated_pileup: bool = True,
    chi2_ndf: np.ndarray | None = None,
    max_chi2_ndf: float = 3000.0,
    pulse_wave: np.ndarray | None = None,
    pulse_time_ns: np.ndarray | None = None,
    overlap_ns: float = 100.0,
) -> np.ndarray:
    """(n_events, n_planes) bool: planes with a waveform whose energy cannot be trusted.

    A waveform counts when the fitter flagged ``fit_failed``, or (``saturated_pileup``)
    when it is both ``saturated`` and ``pileup``: clipped samples under overlapping pulses
    leave the split between the pulses, and so the in-time energy, undetermined (on
    simulated runs such fits moved the trigger electron's energy to the pile-up pulse), or
    when its chi2/ndf (optional per-waveform array) exceeds max_chi2_ndf. Given the fitted
    pulses (pulse_wave: index into wave_rows, pulse_time_ns), a saturated pile-up waveform
    only counts when two of its pulses lie within overlap_ns of each other.
    Waveforms whose samples span less than min_span_adc are ignored (a quiet channel loses
    no energy that matters). wave_rows: digit row of each fitted waveform; flags: the
    fitter's per-waveform flags; digits need ``samples`` when min_span_adc > 0.
    """
    from ..waveform import FLAGS

    f = np.asarray(flags).astype(np.int64)
    bad = (f & FLAGS["fit_failed"]) != 0
    if saturated_pileup:
        sat = ((f & FLAGS["saturated"]) != 0) & ((f & FLAGS["pileup"]) != 0)
        if pulse_wave is not None and pulse_time_ns is not None:
            w = np.asarray(pulse_wave, dtype=np.int64)
            t = np.asarray(pulse_time_ns, dtype=np.float64)
            if w.size and (w.min() < 0 or w.max() >= f.size):
                raise ValueError(f"pulse_wave must index the {f.size} waveforms")
            mine = sat[w]  # only the pulses of clipped pile-up waveforms matter (a few)
            w, t = w[mine], t[mine]
            order = np.lexsort((t, w))
            w, t = w[order], t[order]
            close = (w[1:] == w[:-1]) & (np.diff(t) < overlap_ns)
            overlapping = np.zeros(f.size, dtype=bool)
            overlapping[w[1:][close]] = True
            sat &= overlapping
        bad |= sat
    if chi2_ndf is not None:
        bad |= np.asarray(chi2_ndf, dtype=np.float64) > max_chi2_ndf
    rows = np.asarray(wave_rows, dtype=np.int64)[bad]
    if min_span_adc > 0 and rows.size:
        s = np.asarray(digits["samples"])[rows]
        if "nsamples" in digits:
            recorded = np.arange(s.shape[1])[None, :] < np.asarray(digits["nsamples"])[rows][:, None]
            hi = np.where(recorded, s, 0).max(axis=1).astype(np.int64)
            lo = np.where(recorded, s, np.iinfo(np.int64).max).min(axis=1)
        else:
            hi, lo = s.max(axis=1).astype(np.int64), s.min(axis=1).astype(np.int64)
        rows = rows[hi - lo >= min_span_adc]
    return plane_presence(np.asarray(digits["event"])[rows], np.asarray(digits["plane"])[rows], n_events, n_planes)


def pulse_table(digits: Mapping[str, np.ndarray], pulses: Mapping[str, np.ndarray]) -> Columns:
    """Join fitted pulses (rows with `wave` = digit row) to annotated digits (event, plane, x, y)."""
    wave = np.asarray(pulses["wave"], dtype=np.int64)
    return Columns(
        event=np.asarray(digits["event"])[wave],
        plane=np.asarray(digits["plane"])[wave],
        x=np.asarray(digits["x"])[wave],
        y=np.asarray(digits["y"])[wave],
        amplitude=np.asarray(pulses["amplitude"], dtype=np.float64),
        time_ns=np.asarray(pulses["time_ns"], dtype=np.float64),
        time_err=np.asarray(pulses["time_err"], dtype=np.float64)
        if "time_err" in pulses
        else np.zeros(len(wave)),
    )


def _status(
    present: np.ndarray | None, failed: np.ndarray | None, layout: CaloLayout, n_counters: np.ndarray
) -> np.ndarray:
    n = n_counters.shape[0]
    status = np.where(n_counters == 0, STATUS_NO_MASTER_TIME, 0).astype(np.uint32)
    if failed is not None:
        failed = np.asarray(failed, dtype=bool)
        if failed.shape != (n, len(layout.planes)):
            raise ValueError(f"failed must be (n_events, n_planes) = ({n}, {len(layout.planes)}), got {failed.shape}")
        calo_planes = [layout.index(p) for p in ["ECAL0", "ECAL1", *layout.hcal_planes()]]
        status |= np.where(failed[:, calo_planes].any(axis=1), STATUS_FIT_FAILED, 0).astype(np.uint32)
    if present is None:
        return status
    present = np.asarray(present, dtype=bool)
    if present.shape != (n, len(layout.planes)):
        raise ValueError(f"present must be (n_events, n_planes) = ({n}, {len(layout.planes)}), got {present.shape}")
    names = [p[0] for p in layout.planes]

    def missing(group: list[str]) -> np.ndarray:
        idx = [names.index(g) for g in group if g in names]
        return ~present[:, idx].all(axis=1) if idx else np.zeros(n, dtype=bool)

    status |= np.where(missing(["ECAL0", "ECAL1"]), STATUS_ECAL_MISSING, 0).astype(np.uint32)
    status |= np.where(missing(layout.hcal_planes()), STATUS_HCAL_MISSING, 0).astype(np.uint32)
    status |= np.where(missing(["VETO"]), STATUS_VETO_MISSING, 0).astype(np.uint32)
    status |= np.where(missing(["SRD"]), STATUS_SRD_MISSING, 0).astype(np.uint32)
    return status


def _leading(event: np.ndarray, energy: np.ndarray, n_events: int) -> tuple[np.ndarray, np.ndarray]:
    """Row of the most and second most energetic cluster per event (-1 where none)."""
    first = np.full(n_events, -1, dtype=np.int64)
    second = np.full(n_events, -1, dtype=np.int64)
    if event.size == 0:
        return first, second
    order = np.lexsort((-energy, event))
    ev = event[order]
    start = np.flatnonzero(np.r_[True, ev[1:] != ev[:-1]])
    first[ev[start]] = order[start]
    nxt = start + 1
    has_second = nxt < ev.size
    has_second[has_second] &= ev[nxt[has_second]] == ev[start[has_second]]
    second[ev[start[has_second]]] = order[nxt[has_second]]
    return first, second


def reconstruct_calo(
    pulses: Mapping[str, np.ndarray],
    n_events: int,
    calibration: CaloCalibration,
    spills: np.ndarray | None = None,
    present: np.ndarray | None = None,
    config: CaloConfig | None = None,
    failed: np.ndarray | None = None,
    suspects: Mapping[str, np.ndarray] | None = None,
    digits: Mapping[str, np.ndarray] | None = None,
) -> CaloResult:
    """Calorimeter reconstruction of a batch.

    pulses: columns event (row in the batch), plane, x, y, amplitude (ADC), time_ns and,
    optionally, time_err (ns; widens the time window of poorly timed small pulses).
    spills: spill number per event (selects LED rows; None = run average everywhere).
    present: optional (n_events, n_planes) bool from `plane_presence` over the digits;
    absent detectors set calo_status bits.
    failed: optional (n_events, n_planes) bool, planes with a waveform whose fit failed
    (``plane_presence`` over the failed digits, see ``failed_fits``): ECAL/HCAL ones set
    STATUS_FIT_FAILED, since the energy of such a cell is unknown.
    suspects: optional ``fit_bounds.suspect_table`` of waveforms whose fit is doubtful;
    ``e_ecal_max`` / ``e_hcal_max`` then replace those cells' in-time energy by the
    largest one their samples allow (``fit_bounds.amplitude_upper_bound`` over the cell's
    time window). Without it, an event with STATUS_FIT_FAILED gets infinite maxima.
    digits: optional MSADC digits of the batch (event, plane, x, y, samples, nsamples): the
    cells around the shower that the fits left empty are measured at the event's time
    (``CaloConfig.quiet_templates``).
    """
    config = config or CaloConfig()
    layout = calibration.layout
    core_layout = layout.core_layout()
    cell = cell_all = layout.cell_index(pulses["plane"], pulses["x"], pulses["y"])
    raw_amplitude = np.asarray(pulses["amplitude"], dtype=np.float64)
    absurd = ~(np.abs(raw_amplitude) <= config.max_amplitude_adc)
    mapped = (cell >= 0) & ~absurd
    all_events = np.asarray(pulses["event"], dtype=np.int64)
    absurd_events = all_events[absurd & (cell >= 0)]
    n_unmapped = int(np.count_nonzero(cell < 0))
    keep = None if mapped.all() else np.flatnonzero(mapped)
    event = all_events if keep is None else all_events[keep]
    order, offsets = pulses_to_csr(event, n_events)
    # one gather per column: rows kept, then grouped by event (identity when already sorted)
    take = keep if order is None else (order if keep is None else keep[order])

    def column(values: np.ndarray) -> np.ndarray:
        return values if take is None else values[take]

    cell = column(cell)
    amplitude = column(raw_amplitude)
    time_ns = column(np.asarray(pulses["time_ns"], dtype=np.float64))
    time_err = column(np.asarray(pulses["time_err"], dtype=np.float64)) if "time_err" in pulses else None
    refine_ok = None
    if config.refine_skip_clipped and "clipped" in pulses:
        refine_ok = column(~np.asarray(pulses["clipped"], dtype=bool)).view(np.uint8)
    if spills is None:
        spill_row = np.full(n_events, -1, dtype=np.int32)
    else:
        spills = np.asarray(spills)
        if spills.shape != (n_events,):
            raise ValueError(f"spills must have one value per event ({n_events}), got shape {spills.shape}")
        spill_row = calibration.spill_rows(spills)
    counters = layout.counter_cells()
    refine_cells = [c for name in config.refine_master_planes
                    for c in range(*layout.cells_of(name).indices(layout.n_cells))]  # fmt: skip
    main_cells = [c for name in config.refine_main_planes
                  for c in range(*layout.cells_of(name).indices(layout.n_cells))]  # fmt: skip
    e_in, e_near, e_out, t_cell, master, n_counters, master_refined = _calo.calibrate_cells(
        offsets, cell, amplitude, time_ns, time_err, spill_row,
        calibration.mev_per_adc, calibration.time_mean_ns, calibration.time_sigma_ns,
        calibration.led_run, calibration.led_table,
        counters, [0.0] * len(counters), config.nominal_master_ns, config.master_search_ns,
        config.n_sigma, config.near_sigma, config.max_time_err_ns, config.master_median,
        refine_cells, config.refine_min_mev, config.refine_search_ns, config.refine_cluster_ns,
        config.refine_window_ns, config.refine_anchor, config.refine_spread_ns, config.refine_min_fraction,
        config.refine_local_ns, main_cells, refine_ok,
    )  # fmt: skip
    if suspects is not None and "saturated_only" in suspects:
        suspects = trusted_suspects_dropped(suspects, master, calibration, config)
    if suspects is not None and config.refit_templates:
        refit_suspects(e_in, e_near, master, spill_row, calibration, config, suspects, n_events)
    fitted_bound = None
    if suspects is not None and config.seeded_fitters:
        fitted_bound = seeded_refit(e_in, e_near, master, spill_row, calibration, config, suspects, offsets, cell,
                                    amplitude, time_ns)  # fmt: skip
    if digits is not None and config.quiet_templates:
        measure_quiet_neighbours(e_in, master, spill_row, calibration, config, digits)
    ev = _calo.event_variables(e_in, e_near, e_out, core_layout, config.veto_ratio)
    if config.srd_near_window and core_layout.srd_modules:
        srd = slice(core_layout.srd_begin, core_layout.srd_begin + core_layout.srd_modules)
        ev["srd_module"] = e_in[:, srd] + e_near[:, srd]
        ev["e_srd"] = ev["srd_module"].sum(axis=1)
    grid = (n_events, 2, core_layout.ecal_nx, core_layout.ecal_ny)
    ecal = slice(core_layout.ecal_begin, core_layout.ecal_begin + 2 * core_layout.ecal_nx * core_layout.ecal_ny)
    in_time = _calo.cluster_grid(np.ascontiguousarray(e_in[:, ecal]).reshape(grid), config.cluster, False)
    late = np.ascontiguousarray(e_near[:, ecal] + e_out[:, ecal]).reshape(grid)
    pile = _calo.cluster_grid(late, config.cluster, True)
    cl = {k: np.concatenate([in_time[k], pile[k]]) for k in in_time}
    order = np.argsort(cl["event"], kind="stable")
    cl = {k: v[order] for k, v in cl.items()}
    clusters = Columns(
        event=cl["event"],
        energy=cl["energy"] / MEV_PER_GEV,
        e_prs=cl["e_first_section"] / MEV_PER_GEV,
        x=cl["x"],
        y=cl["y"],
        chi2=cl["chi2"],
        ndf=cl["ndf"],
        n_cells=cl["n_cells"],
        seed_x=cl["seed_x"],
        seed_y=cl["seed_y"],
        iterations=cl["iterations"],
        pileup=cl["pileup"].astype(bool),
    )
    timely = ~clusters.pileup
    rows = np.flatnonzero(timely)
    first, second = _leading(clusters.event[rows], clusters.energy[rows], n_events)
    lead = np.where(first >= 0, rows[np.maximum(first, 0)], -1) if rows.size else first
    nxt = np.where(second >= 0, rows[np.maximum(second, 0)], -1) if rows.size else second
    has = lead >= 0

    def pick(values: np.ndarray, idx: np.ndarray, ok: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(n_events, fill, dtype=np.float64)
        out[ok] = values[idx[ok]]
        return out

    n_clusters = np.bincount(clusters.event[timely], minlength=n_events).astype(np.int32)
    n_pileup = np.bincount(clusters.event[~timely], minlength=n_events).astype(np.int32)
    e_bad = (ev["e_bad_ecal"] + ev["e_bad_hcal"]) / MEV_PER_GEV
    e_pileup = (ev["e_pileup_ecal"] + ev["e_pileup_hcal"]) / MEV_PER_GEV
    status = _status(present, failed, layout, n_counters)
    status[absurd_events] |= np.uint32(STATUS_FIT_FAILED)
    absurd_key = absurd_events * layout.n_cells + layout.cell_index(
        np.asarray(pulses["plane"])[absurd & (cell_all >= 0)], np.asarray(pulses["x"])[absurd & (cell_all >= 0)],
        np.asarray(pulses["y"])[absurd & (cell_all >= 0)],
    )  # fmt: skip
    crowded = None
    if config.ring.factor > 0.0:
        ev_of_pulse = np.repeat(np.arange(n_events), np.diff(offsets))
        crowded = crowded_cells(
            ev_of_pulse, cell, amplitude * calibration.mev_per_adc[cell],
            time_ns - master[ev_of_pulse] - calibration.time_mean_ns[cell],
            config.n_sigma * calibration.time_sigma_ns[cell], n_events, layout.n_cells, config.ring,
        )  # fmt: skip
    e_ecal_max, e_hcal_max, veto_max_bound = energy_maxima(
        ev, e_in, master, spill_row, calibration, config, status, suspects, n_events, absurd_key, fitted_bound, crowded,
        digits,
    )
    if config.bad_energy_in_maxima:
        e_ecal_max = e_ecal_max + ev["e_bad_ecal"] / MEV_PER_GEV
        e_hcal_max = e_hcal_max + ev["e_bad_hcal"] / MEV_PER_GEV
    ndf = pick(clusters.ndf.astype(np.float64), lead, has, np.nan)
    chi2 = pick(clusters.chi2, lead, has, np.nan)
    events = Columns(
        e_ecal=ev["e_ecal"] / MEV_PER_GEV,
        e_prs=ev["e_prs"] / MEV_PER_GEV,
        e_hcal=ev["e_hcal"] / MEV_PER_GEV,
        e_ecal_max=e_ecal_max,
        e_hcal_max=e_hcal_max,
        e_veto=ev["e_veto"] / MEV_PER_GEV,
        e_srd=ev["e_srd"] / MEV_PER_GEV,
        ecal_x=pick(clusters.x, lead, has, np.nan),
        ecal_y=pick(clusters.y, lead, has, np.nan),
        pileup=(ev["e_bad_ecal"] + ev["e_bad_hcal"] + ev["e_pileup_ecal"] + ev["e_pileup_hcal"])
        > config.pileup_threshold_mev,
        e_ecal_3x3=ev["e_ecal_3x3"] / MEV_PER_GEV,
        e_max_cell=ev["e_max_cell"] / MEV_PER_GEV,
        ecal_max_x=ev["max_x"],
        ecal_max_y=ev["max_y"],
        ecal_cog_x=ev["cog_x"],
        ecal_cog_y=ev["cog_y"],
        ecal_cluster_e=pick(clusters.energy, lead, has, 0.0),
        ecal_chi2=chi2,
        ecal_chi2_ndf=chi2 / ndf,
        ecal_nclusters=n_clusters,
        ecal_npileup_clusters=n_pileup,
        e_second_cluster=pick(clusters.energy, nxt, nxt >= 0, 0.0),
        hcal_module=ev["hcal_module"] / MEV_PER_GEV,
        hcal_r=ev["hcal_r"],
        veto_module=ev["veto_module"] / MEV_PER_GEV,
        veto_max=ev["veto_module"].max(axis=1, initial=0.0) / MEV_PER_GEV,
        veto_max_bound=veto_max_bound,
        srd_module=ev["srd_module"] / MEV_PER_GEV,
        srd_min=ev["srd_module"].min(axis=1, initial=np.inf) / MEV_PER_GEV
        if core_layout.srd_modules
        else np.zeros(n_events),
        e_bad=e_bad,
        e_bad_ecal=ev["e_bad_ecal"] / MEV_PER_GEV,
        e_bad_hcal=ev["e_bad_hcal"] / MEV_PER_GEV,
        e_pileup=e_pileup,
        master_time_ns=master,
        master_refined=master_refined,
        n_counters=n_counters,
        calo_status=status,
        # the status without fit_failed: detectors absent or no master time (the selection's
        # quality cut; doubtful fits are bounded in e_ecal_max / e_hcal_max instead)
        calo_missing=status & np.uint32(~STATUS_FIT_FAILED & 0xFFFFFFFF),
    )
    return CaloResult(events, clusters, e_in, e_near, e_out, t_cell, n_unmapped)
