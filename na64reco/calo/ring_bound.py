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
pulse within ``clear_ns`` of the master time other than in-time ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import CaloLayout

__all__ = ["RingBoundConfig", "crowded_cells", "ring_bound"]


@dataclass(frozen=True)
class RingBoundConfig:
    """The ring bound of doubtful cells (``factor`` 0: off)."""

    planes: tuple[str, ...] = ("ECAL1",)
    factor: float = 8.0
    # a ring cell with a pulse of at least clear_mev beyond the in-time window but within
    # clear_ns of the event's expected time for it leaves the ring unusable. Of 200,000
    # simulated background electrons at 3 MHz, 10 ns let four into the box, 12 ns one, 15 and
    # 20 ns none (nor of 200,000 more)
    clear_ns: float = 20.0
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


def ring_bound(event: np.ndarray, cell: np.ndarray, e_in: np.ndarray, crowded: np.ndarray, layout: CaloLayout,
               config: RingBoundConfig) -> np.ndarray:
    """Per (event, cell) row: ``config.factor`` times the in-time energy (MeV) of the cell's
    ring of eight in its plane, where that ring has in-time energy and no crowded cell; inf
    elsewhere (cells of other planes, at the plane's edge the cells that exist count)."""
    bound = np.full(event.size, np.inf)
    if config.factor <= 0.0 or not event.size:
        return bound
    for name in config.planes:
        sl = layout.cells_of(name)
        nx, ny = layout.shape(name)
        rows = np.flatnonzero((cell >= sl.start) & (cell < sl.stop))
        if not rows.size:
            continue
        ev = event[rows]
        cx, cy = (cell[rows] - sl.start) // ny, (cell[rows] - sl.start) % ny
        ring = np.zeros(rows.size)
        busy = np.zeros(rows.size, dtype=bool)
        for dx, dy in ((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy):
            x, y = cx + dx, cy + dy
            ok = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
            neighbour = sl.start + x[ok] * ny + y[ok]
            ring[ok] += e_in[ev[ok], neighbour]
            busy[ok] |= crowded[ev[ok], neighbour]
        usable = (ring > 0.0) & ~busy
        bound[rows[usable]] = config.factor * ring[usable]
    return bound
