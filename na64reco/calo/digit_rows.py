"""Where a batch's MSADC digits hold the window of given (event, cell) pairs of one plane."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .layout import CaloLayout

__all__ = ["digit_rows"]


def digit_rows(digits: Mapping[str, np.ndarray], layout: CaloLayout, plane: str, event: np.ndarray,
               local: np.ndarray, n_events: int) -> np.ndarray:
    """The row of ``digits`` (event, plane, x, y columns) holding each (``event``, cell
    ``local`` = x * ny + y of ``plane``) pair's window; -1 where it has none (of two digits of a
    cell, the later). Only the digits of the events asked about are indexed: a table over every
    digit of the plane cost ~1 us an event."""
    nx, ny = layout.shape(plane)
    event = np.asarray(event, dtype=np.int64)
    # the plane's digits first (one pass over the batch's millions of digits), then only those
    rows_p = np.flatnonzero(np.asarray(digits["plane"]) == layout.index(plane))
    pe = np.asarray(digits["event"])[rows_p].astype(np.int64, copy=False)
    in_range = (pe >= 0) & (pe < n_events)
    need = np.zeros(n_events, dtype=bool)
    need[event] = True
    wanted = in_range & need[np.where(in_range, pe, 0)]
    rows_p, pe = rows_p[wanted], pe[wanted]
    px = np.asarray(digits["x"])[rows_p].astype(np.int64)
    py = np.asarray(digits["y"])[rows_p].astype(np.int64)
    ok = (px >= 0) & (px < nx) & (py >= 0) & (py < ny)
    # by flat (event * cells + cell) index
    row_of = np.full(n_events * nx * ny, -1, dtype=np.int64)
    row_of[(pe * (nx * ny) + px * ny + py)[ok]] = rows_p[ok]
    return row_of[event * (nx * ny) + np.asarray(local, dtype=np.int64)]
