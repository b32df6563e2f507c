"""Doubtful calorimeter fits measured again with the pulse times the event's other channels saw.

A clipped central ECAL cell with a pile-up particle 10-50 ns from the trigger particle is the
commonest doubtful fit at high beam rates: the free fit has to find two overlapping pulses
whose peaks are both hidden, and the straight-baseline re-measurement at the in-time time
cannot follow the pile-up pulse's shape. Every particle that showers in the ECAL also leaves
clean, unclipped pulses in the cells around it, so their times (shifted by the cells' time
calibration) say where the pulses of the doubtful cell peak; with those as seeds the fit has
no search left to get wrong (``WaveformFitter.fit_seeded``). A seeded ECAL fit is trusted
when it converged, measures the in-time pulse (a physical amplitude with a finite error),
describes the samples (chi2/ndf) and reaches the clipping level wherever a sample is clipped:
its amplitude plus a margin (several standard errors, at least a fraction of the amplitude)
then bounds the in-time energy in ``e_ecal_max``, in place of the model-free bound, which is
infinite whenever a clipped sample lies where the in-time pulse peaks. Where its error is
also small, its amplitude replaces the cell's in-time energy.

The SRD's in-time pulses are small (a few MeV of synchrotron photons) and every beam particle
makes one: a pile-up particle 10-20 ns away merges with the in-time pulse in the free fit and
the in-time one is lost or moved out of its window. The beam counters see every particle, so
their pulse times (with the ECAL's) fix all the pulses of a doubtful SRD waveform, and its
in-time amplitude is measured with every time held (``fixed_times``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .calibration import CaloCalibration, cell_energy

if TYPE_CHECKING:
    from .reconstruct import CaloConfig

__all__ = ["SeededRefitConfig", "SeededPlane", "seeded_refit", "seed_times"]


@dataclass(frozen=True)
class SeededRefitConfig:
    """Which pulses seed the fit, and when its result is trusted."""

    # pulses of at least this amplitude (ADC) in the seed planes give seed times: their
    # fitted times are precise to a fraction of a nanosecond
    seed_min_adc: float = 100.0
    max_chi2_ndf: float = 5.0
    # upper bound of the in-time amplitude: amplitude + max(bound_sigmas * error,
    # bound_fraction * amplitude + bound_adc)
    bound_sigmas: float = 5.0
    bound_fraction: float = 0.2
    bound_adc: float = 10.0
    # the in-time energy is replaced when the error is at most the larger of these
    precise_fraction: float = 0.1
    precise_adc: float = 20.0
    in_time_tolerance_ns: float = 3.0  # a refitted pulse this close to the in-time seed is the in-time one
    # in the planes the box bounds, a refit is trusted only with no other pulse of its model
    # this close to the in-time one: two pulses 7-15 ns apart under clipped peaks were split
    # wrongly by fits that described the samples (in-time energies 30-70 % low with small
    # errors, 4 of 404 central cells of simulated 3 MHz signal events), which could move
    # background into the box (20 ns until the ring bound's clear window went to 15 ns too)
    min_separation_ns: float = 15.0
    # seeds closer than this are one particle (the largest pulse's time is kept): pulses of
    # one particle in different cells differ by the cells' timing, those of small pulses by
    # more than a nanosecond
    seed_merge_ns: float = 5.0


@dataclass(frozen=True)
class SeededPlane:
    """How the doubtful fits of one plane are seeded: the fitter (the plane's template),
    the planes whose pulses give the seed times, whether the times are held fixed, and
    whether the result bounds the plane's energy in the box cuts (e_ecal_max)."""

    fitter: Any
    seed_planes: tuple[str, ...]
    fixed_times: bool = False
    bounds: bool = True


def seed_times(
    suspect_event: np.ndarray,
    suspect_cell: np.ndarray,
    offsets: np.ndarray,
    pulse_cell: np.ndarray,
    pulse_amplitude: np.ndarray,
    pulse_time_ns: np.ndarray,
    seed_cell: np.ndarray,
    time_mean_ns: np.ndarray,
    min_amplitude: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed times of each suspect cell (CSR: times, offsets, and the seeding pulses'
    amplitudes as weights) from the pulses of its event.

    offsets: CSR offsets of the pulses by event (pulse_* grouped by event); seed_cell: bool
    per cell, the cells whose pulses seed; a pulse of cell p at time t seeds cell c at
    t - time_mean_ns[p] + time_mean_ns[c]."""
    ev = np.asarray(suspect_event, dtype=np.int64)
    begin = offsets[ev]
    counts = offsets[ev + 1] - begin
    owner = np.repeat(np.arange(ev.size), counts)
    start = np.cumsum(counts) - counts
    idx = np.repeat(begin, counts) + (np.arange(owner.size) - np.repeat(start, counts))
    p_cell = pulse_cell[idx]
    use = seed_cell[p_cell] & (pulse_amplitude[idx] >= min_amplitude)
    owner, idx, p_cell = owner[use], idx[use], p_cell[use]
    times = pulse_time_ns[idx] - time_mean_ns[p_cell] + time_mean_ns[suspect_cell[owner]]
    seed_offsets = np.zeros(ev.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=ev.size), out=seed_offsets[1:])
    return times.astype(np.float64), seed_offsets, pulse_amplitude[idx].astype(np.float64)


def seeded_refit(
    e_in: np.ndarray,
    e_near: np.ndarray,
    master: np.ndarray,
    spill_row: np.ndarray,
    calibration: CaloCalibration,
    config: CaloConfig,
    suspects: Mapping[str, np.ndarray],
    pulse_offsets: np.ndarray,
    pulse_cell: np.ndarray,
    pulse_amplitude: np.ndarray,
    pulse_time_ns: np.ndarray,
) -> np.ndarray:
    """Refit the suspect waveforms of the planes in ``config.seeded_fitters`` (plane name ->
    ``SeededPlane``) from seed times; where the fit is trusted, set the cell's in-time energy
    (in place) and, for planes that bound, return its upper bound (MeV; inf elsewhere, one
    value per suspect row)."""
    layout = calibration.layout
    opts = config.seeded
    n_events = e_in.shape[0]
    event = np.asarray(suspects["event"], dtype=np.int64)
    cell = layout.cell_index(suspects["plane"], suspects["x"], suspects["y"])
    bound = np.full(event.size, np.inf)
    names = {p[0] for p in layout.planes}
    for name, plane in config.seeded_fitters.items():
        if name not in names:
            continue
        sl = layout.cells_of(name)
        pick = np.flatnonzero((cell >= sl.start) & (cell < sl.stop) & (event >= 0) & (event < n_events))
        if not pick.size:
            continue
        seed_cell = np.zeros(layout.n_cells, dtype=bool)
        for source in plane.seed_planes:
            if source in names:
                seed_cell[layout.cells_of(source)] = True
        ev_, cell_ = event[pick], cell[pick]
        centre = master[ev_] + calibration.time_mean_ns[cell_]
        times, seed_offsets, weights = seed_times(ev_, cell_, pulse_offsets, pulse_cell, pulse_amplitude,
                                                  pulse_time_ns, seed_cell, calibration.time_mean_ns,
                                                  opts.seed_min_adc)  # fmt: skip
        fit = plane.fitter.fit_seeded(np.asarray(suspects["samples"])[pick], times, seed_offsets, centre,
                                      nsamples=np.asarray(suspects["nsamples"])[pick],
                                      in_time_tolerance_ns=opts.in_time_tolerance_ns, fixed_times=plane.fixed_times,
                                      seed_weights=weights, seed_merge_ns=opts.seed_merge_ns)  # fmt: skip
        amp = fit["amplitude"]
        err = fit["amplitude_err"]
        ndf = fit["ndf"]
        with np.errstate(invalid="ignore", divide="ignore"):
            chi2_ndf = fit["chi2"] / ndf
        # a fit that describes the samples bounds the in-time energy (within its error) ...
        trusted = ((fit["ok"] == 1) & (fit["clip_consistent"] == 1) & np.isfinite(fit["time_ns"]) & (ndf >= 1)
                   & (chi2_ndf <= opts.max_chi2_ndf) & np.isfinite(centre) & (np.abs(amp) <= config.max_amplitude_adc)
                   & np.isfinite(err))  # fmt: skip
        if plane.bounds:
            trusted &= fit["nearest_other_ns"] >= opts.min_separation_ns
        # ... and measures it when its error is small: a hidden in-time peak can leave the
        # amplitude undetermined however well the model describes the samples
        precise = trusted & (err <= np.maximum(opts.precise_fraction * np.abs(amp), opts.precise_adc))
        rows = pick[precise]
        ev_t, cell_t = event[rows], cell[rows]
        e_in[ev_t, cell_t] = cell_energy(np.maximum(amp[precise], 0.0), ev_t, cell_t, spill_row, calibration)
        e_near[ev_t, cell_t] = 0.0
        if plane.bounds and trusted.any():
            rows = pick[trusted]
            a, e = amp[trusted], err[trusted]
            top = a + np.maximum(opts.bound_sigmas * e, opts.bound_fraction * a + opts.bound_adc)
            bound[rows] = cell_energy(np.maximum(top, 0.0), event[rows], cell[rows], spill_row, calibration)
    return bound
