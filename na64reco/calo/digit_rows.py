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
    d_event = np.asarray(digits["event"], dtype=np.int64)
    in_range = (d_event >= 0) & (d_event < n_events)
    need = np.zeros(n_events, dtype=bool)
    need[event] = True
    rows_p = np.flatnonzero((np.asarray(digits["plane"]) == layout.index(plane)) & in_range
                            & need[np.where(in_range, d_event, 0)])  # fmt: skip
    px = np.asarray(digits["x"])[rows_p].astype(np.int64)
    py = np.asarray(digits["y"])[rows_p].astype(np.int64)
    pe = d_event[rows_p]
    ok = (px >= 0) & (px < nx) & (py >= 0) & (py < ny)
    # by flat (event * cells + cell) index
    row_of = np.full(n_events * nx * ny, -1, dtype=np.int64)
    row_of[(pe * (nx * ny) + px * ny + py)[ok]] = rows_p[ok]
    return row_of[event * (nx * ny) + np.asarray(local, dtype=np.int64)]
