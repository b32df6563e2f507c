"""A doubtful ECAL cell bounded by the in-time energy of the eight cells around it.

An electromagnetic shower's lateral profile fixes how much of its energy the central cell
holds against its ring of eight neighbours: on simulated electrons without pile-up the
largest ECAL1 cell holds 5.4 times its ring (median; 5.9 at most in 19,880 showers,
``bench_reco_sim.py`` prints it). A clipped central cell whose fit is doubtful, and whose
model-free bound is infinite because a clipped sample lies where the in-time pulse peaks,
therefore holds at most ``factor`` times its ring's in-time energy, when that ring energy is
the trigger particle's own. It is not when a neighbour's fit merged the trigger particle's
pulse with a pile-up pulse nearby into one timed between them: the ring then reads nothing
in time under a 100 GeV shower (background electrons with a pile-up shower 10-20 ns away
reached the signal box that way). So the ring bound holds only where no ring cell has a
pulse within ``clear_ns`` of the master time other than in-time ones. And the fits can miss
a ring cell's in-time pulse among many others (a 5 MHz window holds up to nine particles):
each ring cell counts with the larger of its fitted in-time energy and a fixed-time
measurement of its samples at the event's time (``measured_ring``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .calibration import CaloCalibration, cell_energy
from .digit_rows import digit_rows
from .fit_bounds import fixed_time_amplitude
from .layout import CaloLayout

__all__ = ["RingBoundConfig", "crowded_cells", "measured_ring", "ring_bound"]


@dataclass(frozen=True)
class RingBoundConfig:
    """The ring bound of doubtful cells (``factor`` 0: off)."""

    planes: tuple[str, ...] = ("ECAL1",)
    factor: float = 8.0
    # a ring cell with a pulse of at least clear_mev beyond the in-time window but within
    # clear_ns of the event's expected time for it leaves the ring unusable. Of 200,000
    # simulated background electrons at 3 MHz, 10 ns let four into the box and 12 ns one
    # (with the fitted ring energies alone and the "nominal" anchor), 15 and 20 ns none (nor
    # of 200,000 more). 15 ns: the ECAL fits resolve pairs that far apart
    # (bench_waveform_limits.py); with the seeded refits' 15 ns, the 3 MHz signal gained 0.002
    # and none of 700,000 background electrons at 3 and 5 MHz reached the box (the lowest
    # e_ecal_max of those passing every other cut fell from 78 to 59 GeV at 5 MHz; a third
    # 3 MHz sample of 200,000 let 2 in with 15 and with 20 ns, docs/reconstruction.md).
    clear_ns: float = 15.0
    clear_mev: float = 500.0


def crowded_cells(event: np.ndarray, cell: np.ndarray, energy_mev: np.ndarray, dt_ns: np.ndarray,
                  in_time_ns: np.ndarray, n_events: int, n_cells: int, config: RingBoundConfig) -> np.ndarray:
    """(n_events, n_cells) bool: cells with a pulse of at least ``config.clear_mev`` whose time
    from the cell's expected in-time peak (``dt_ns``) lies beyond ``in_time_ns`` (the cell's
    in-time half-width) but within ``config.clear_ns``."""
    near = (np.abs(dt_ns) > in_time_ns) & (np.abs(dt_ns) <= config.clear_ns) & (energy_mev >= config.clear_mev)
    crowded = np.zeros((n_events, n_cells), dtype=bool)
    crowded[event[near], cell[near]] = True
    return crowded


def _ring_cells(event: np.ndarray, cell: np.ndarray, layout: CaloLayout, name: str):
    """For the rows of ``cell`` in plane ``name``: (row, event, neighbour cell) of each
    existing neighbour of the ring of eight."""
    sl = layout.cells_of(name)
    nx, ny = layout.shape(name)
    rows = np.flatnonzero((cell >= sl.start) & (cell < sl.stop))
    cx, cy = (cell[rows] - sl.start) // ny, (cell[rows] - sl.start) % ny
    parts = []
    for dx, dy in ((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy):
        x, y = cx + dx, cy + dy
        ok = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
        parts.append((rows[ok], event[rows[ok]], sl.start + x[ok] * ny + y[ok]))
    return tuple(np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, np.int64) for i in range(3))


def measured_ring(event: np.ndarray, cell: np.ndarray, master: np.ndarray, spill_row: np.ndarray,
                  calibration: CaloCalibration, digits: Mapping[str, np.ndarray], templates: Mapping[str, object],
                  config: RingBoundConfig) -> tuple[np.ndarray, np.ndarray]:
    """The ring cells of the (event, cell) rows in ``config.planes`` measured at the event's
    time from their samples (``fit_bounds.fixed_time_amplitude``, ``templates`` by plane
    name): (sorted event * n_cells + cell keys, MeV; NaN where the samples do not tell). Only
    those cells: a dense (event, cell) table cost an allocation of tens of MB per batch."""
    layout = calibration.layout
    n_events = master.size
    keys, energy = [np.zeros(0, np.int64)], [np.zeros(0)]
    for name in config.planes:
        template = templates.get(name)
        _, ev, ring = _ring_cells(event, cell, layout, name)
        if template is None or not ev.size:
            continue
        rows = digit_rows(digits, layout, name, ev, ring - layout.cells_of(name).start, n_events)
        have = (rows >= 0) & np.isfinite(master[ev])
        ev, ring, rows = ev[have], ring[have], rows[have]
        if not rows.size:
            continue
        amp = fixed_time_amplitude(np.asarray(digits["samples"])[rows], np.asarray(digits["nsamples"])[rows],
                                   master[ev] + calibration.time_mean_ns[ring], template)  # fmt: skip
        keys.append(ev * layout.n_cells + ring)
        energy.append(cell_energy(np.maximum(amp, 0.0), ev, ring, spill_row, calibration))
    key, first = np.unique(np.concatenate(keys), return_index=True)
    return key, np.concatenate(energy)[first]


def ring_bound(event: np.ndarray, cell: np.ndarray, e_in: np.ndarray, crowded: np.ndarray, layout: CaloLayout,
               config: RingBoundConfig, measured: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Per (event, cell) row: ``config.factor`` times the in-time energy (MeV) of the cell's
    ring of eight in its plane, where that ring has in-time energy and no crowded cell; inf
    elsewhere (cells of other planes, at the plane's edge the cells that exist count).
    measured: optional fixed-time energies of ring cells (``measured_ring``: keys event *
    n_cells + cell, MeV); each ring cell counts with the larger of it and its fitted
    in-time energy."""
    bound = np.full(event.size, np.inf)
    if config.factor <= 0.0 or not event.size:
        return bound
    for name in config.planes:
        row, ev, neighbour = _ring_cells(event, cell, layout, name)
        e = e_in[ev, neighbour]
        if measured is not None and measured[0].size:
            key = ev * e_in.shape[1] + neighbour
            pos = np.minimum(np.searchsorted(measured[0], key), measured[0].size - 1)
            e = np.where(measured[0][pos] == key, np.fmax(e, measured[1][pos]), e)
        ring = np.zeros(event.size)
        busy = np.zeros(event.size, dtype=bool)
        np.add.at(ring, row, e)
        np.logical_or.at(busy, row, crowded[ev, neighbour])
        in_plane = np.zeros(event.size, dtype=bool)
        in_plane[row] = True
        usable = in_plane & (ring > 0.0) & ~busy
        bound[usable] = config.factor * ring[usable]
    return bound
