"""Cells whose waveform fit is doubtful: re-measured at the expected time, or bounded.

The calorimeter reconstruction (``reconstruct_calo``) hands the suspect waveforms here:
saturated-only fits whose clipped samples lie away from the in-time pulse are trusted again,
the refit planes (ECAL, SRD) get a fixed-time amplitude, and every remaining doubtful cell
contributes the largest in-time energy its samples allow to ``e_ecal_max`` / ``e_hcal_max``
/ ``veto_max_bound`` (``fit_bounds`` explains the bounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..columns import Columns
from .calibration import CaloCalibration, cell_energy
from .fit_bounds import amplitude_upper_bound, clipped_near, fixed_time_amplitude
from .ring_bound import measured_ring, ring_bound
from .status import MEV_PER_GEV, STATUS_FIT_FAILED

if TYPE_CHECKING:
    from .reconstruct import CaloConfig

__all__ = ["trusted_suspects_dropped", "refit_suspects", "energy_maxima"]


def trusted_suspects_dropped(suspects: Mapping[str, np.ndarray], master: np.ndarray, calibration: CaloCalibration,
              config: CaloConfig) -> Columns:
    """The suspects less the saturated-only ones whose clipped samples lie outside the guard
    window around their cell's expected in-time peak."""
    cell = calibration.layout.cell_index(suspects["plane"], suspects["x"], suspects["y"])
    event = np.asarray(suspects["event"], dtype=np.int64)
    sat_only = np.asarray(suspects["saturated_only"], dtype=bool) & (cell >= 0)
    if not sat_only.any():
        return suspects if isinstance(suspects, Columns) else Columns(dict(suspects))
    rows = np.flatnonzero(sat_only)
    centre = master[event[rows]] + calibration.time_mean_ns[cell[rows]]
    before, after = config.clip_guard_ns
    near = clipped_near(np.asarray(suspects["samples"])[rows], np.asarray(suspects["nsamples"])[rows], centre,
                        before, after)  # fmt: skip
    keep = np.ones(event.size, dtype=bool)
    keep[rows[~near]] = False
    table = suspects if isinstance(suspects, Columns) else Columns(dict(suspects))
    return table.take(keep)


def refit_suspects(
    e_in: np.ndarray,
    e_near: np.ndarray,
    master: np.ndarray,
    spill_row: np.ndarray,
    calibration: CaloCalibration,
    config: CaloConfig,
    suspects: Mapping[str, np.ndarray],
    n_events: int,
) -> None:
    """Replace, in place, the in-time energy of suspect cells of the refit planes by a
    fixed-time measurement (negative amplitudes count as none)."""
    layout = calibration.layout
    event = np.asarray(suspects["event"], dtype=np.int64)
    cell = layout.cell_index(suspects["plane"], suspects["x"], suspects["y"])
    for name, template in config.refit_templates.items():
        sl = layout.cells_of(name)
        pick = np.flatnonzero((cell >= sl.start) & (cell < sl.stop) & (event >= 0) & (event < n_events))
        if not pick.size:
            continue
        ev_, cell_ = event[pick], cell[pick]
        centre = master[ev_] + calibration.time_mean_ns[cell_]
        amp = fixed_time_amplitude(np.asarray(suspects["samples"])[pick], np.asarray(suspects["nsamples"])[pick],
                                   centre, template, neighbour_ns=config.refit_neighbour_ns)  # fmt: skip
        ok = np.isfinite(amp)
        energy = cell_energy(np.maximum(amp[ok], 0.0), ev_[ok], cell_[ok], spill_row, calibration)
        e_in[ev_[ok], cell_[ok]] = energy
        e_near[ev_[ok], cell_[ok]] = 0.0


def energy_maxima(
    ev: Mapping[str, np.ndarray],
    e_in: np.ndarray,
    master: np.ndarray,
    spill_row: np.ndarray,
    calibration: CaloCalibration,
    config: CaloConfig,
    status: np.ndarray,
    suspects: Mapping[str, np.ndarray] | None,
    n_events: int,
    absurd_key: np.ndarray,
    fitted_bound: np.ndarray | None = None,
    crowded: np.ndarray | None = None,
    digits: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest in-time ECAL and HCAL energies and VETO module energy (GeV) the doubtful
    fits leave possible.

    absurd_key: event * n_cells + cell of the pulses dropped for an absurd amplitude; an
    event with one whose waveform is not among the suspects gets infinite maxima. A VETO
    module's energy never exceeds its larger PMT, so a doubtful PMT's bound bounds it.
    fitted_bound: per suspect row, an upper bound (MeV) from a trusted refit
    (``seeded_refit``; inf where none), used where it is below the model-free one.
    crowded: (n_events, n_cells) bool from ``ring_bound.crowded_cells``; with it the cells of
    ``config.ring.planes`` are also bounded by their ring of eight (``ring_bound``), whose
    cells are also measured at the event's time from ``digits`` when given."""
    e_ecal = ev["e_ecal"] / MEV_PER_GEV
    e_hcal = ev["e_hcal"] / MEV_PER_GEV
    veto = ev["veto_module"].max(axis=1, initial=0.0) / MEV_PER_GEV
    if suspects is None:
        unknown = (status & STATUS_FIT_FAILED) != 0
        return np.where(unknown, np.inf, e_ecal), np.where(unknown, np.inf, e_hcal), veto
    layout = calibration.layout
    event = np.asarray(suspects["event"], dtype=np.int64)
    if event.size and (event.min() < 0 or event.max() >= n_events):
        raise ValueError(f"suspect waveform event index outside 0..{n_events - 1}")
    cell = layout.cell_index(suspects["plane"], suspects["x"], suspects["y"])
    plane_of = np.searchsorted(layout.begin, np.maximum(cell, 0), side="right") - 1
    names = np.array([p[0] for p in layout.planes])
    is_ecal = (cell >= 0) & np.isin(names[plane_of], ["ECAL0", "ECAL1"])
    is_hcal = (cell >= 0) & np.isin(names[plane_of], layout.hcal_planes())
    is_veto = (cell >= 0) & (names[plane_of] == "VETO")
    use = is_ecal | is_hcal | is_veto
    event, cell, is_ecal, is_veto = event[use], cell[use], is_ecal[use], is_veto[use]
    # where the trigger particle's pulse can peak: the cell's timing resolution around the
    # master time (fit time errors only widen the window of small pulses, which matter little)
    centre = master[event] + calibration.time_mean_ns[cell]
    half = config.near_sigma * calibration.time_sigma_ns[cell]
    samples = np.asarray(suspects["samples"])[use]
    nsamples = np.asarray(suspects["nsamples"])[use]
    floor = np.asarray(suspects["peak_floor"], dtype=np.float64)[use]
    pedestal = np.asarray(suspects["pedestal"], dtype=np.float64)[use] if "pedestal" in suspects else np.full(use.sum(), np.inf)
    amp = np.empty(event.size)
    cell_plane = names[plane_of[use]]
    for name in np.unique(cell_plane):
        rows = np.flatnonzero(cell_plane == name)
        amp[rows] = amplitude_upper_bound(
            samples[rows], nsamples[rows], centre[rows] - half[rows], centre[rows] + half[rows], floor[rows],
            pedestal=pedestal[rows], template=config.bound_templates.get(str(name)),
        )  # fmt: skip
    bound = cell_energy(amp, event, cell, spill_row, calibration)
    if fitted_bound is not None:
        bound = np.fmin(bound, np.asarray(fitted_bound, dtype=np.float64)[use])
    if crowded is not None:
        ring = ring_bound(event, cell, e_in, crowded, layout, config.ring)
        # the samples' measurement only raises a ring: needed only where the fitted ring would tighten
        tighter = np.flatnonzero(ring < bound)
        if digits is not None and tighter.size:
            measured = measured_ring(event[tighter], cell[tighter], master, spill_row, calibration, digits,
                                     config.bound_templates, config.ring)  # fmt: skip
            ring[tighter] = ring_bound(event[tighter], cell[tighter], e_in, crowded, layout, config.ring, measured)
        bound = np.fmin(bound, ring)
    # the bound replaces what the doubtful fit put in the cell (never lowers it)
    extra = np.maximum(bound - e_in[event, cell], 0.0) / MEV_PER_GEV
    extra = np.where(np.isnan(extra), np.inf, extra)
    ecal_extra = np.zeros(n_events)
    hcal_extra = np.zeros(n_events)
    is_hcal = ~is_ecal & ~is_veto
    np.add.at(ecal_extra, event[is_ecal], extra[is_ecal])
    np.add.at(hcal_extra, event[is_hcal], extra[is_hcal])
    veto_max = veto.copy()
    np.maximum.at(veto_max, event[is_veto], np.where(np.isnan(bound[is_veto]), np.inf, bound[is_veto]) / MEV_PER_GEV)
    # a dropped pulse whose waveform is not bounded leaves its own detector's energy unknown:
    # counter and SRD pulses carry no calorimeter energy
    uncovered = absurd_key[~np.isin(absurd_key, event * layout.n_cells + cell)]
    unc_cell = uncovered % layout.n_cells
    unc_event = uncovered // layout.n_cells
    unc_plane = names[np.searchsorted(layout.begin, unc_cell, side="right") - 1]
    ecal_extra[unc_event[np.isin(unc_plane, ["ECAL0", "ECAL1"])]] = np.inf
    hcal_extra[unc_event[np.isin(unc_plane, layout.hcal_planes())]] = np.inf
    veto_max[unc_event[unc_plane == "VETO"]] = np.inf
    return e_ecal + ecal_extra, e_hcal + hcal_extra, veto_max
