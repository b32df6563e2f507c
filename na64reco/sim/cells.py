"""The simulator's canonical SADC cell order and detector kinds.

Cells are numbered in the plane order of docs/data-model.md (ECAL0, ECAL1, HCAL0..3, VETO,
SRD, S1..S4, V1, V2), x-major inside a plane (index = x * ny + y). Cells of one detector
kind (one pulse template) are contiguous, which lets the waveform synthesis work on slices.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PLANES",
    "KINDS",
    "N_CELLS",
    "CELL_PLANE",
    "CELL_X",
    "CELL_Y",
    "CELL_KIND",
    "KIND_SLICES",
    "PLANE_SLICES",
    "plane_index",
]

# name, nx, ny, kind
PLANES: tuple[tuple[str, int, int, str], ...] = (
    ("ECAL0", 6, 6, "ecal"),
    ("ECAL1", 6, 6, "ecal"),
    ("HCAL0", 3, 3, "hcal"),
    ("HCAL1", 3, 3, "hcal"),
    ("HCAL2", 3, 3, "hcal"),
    ("HCAL3", 3, 3, "hcal"),
    ("VETO", 6, 1, "veto"),
    ("SRD", 3, 1, "srd"),
    ("S1", 1, 1, "counter"),
    ("S2", 1, 1, "counter"),
    ("S3", 1, 1, "counter"),
    ("S4", 1, 1, "counter"),
    ("V1", 1, 1, "counter"),
    ("V2", 1, 1, "counter"),
)
KINDS: tuple[str, ...] = ("ecal", "hcal", "veto", "srd", "counter")


def _build() -> tuple[np.ndarray, ...]:
    plane, xs, ys, kind = [], [], [], []
    for p, (_, nx, ny, k) in enumerate(PLANES):
        for x in range(nx):
            for y in range(ny):
                plane.append(p)
                xs.append(x)
                ys.append(y)
                kind.append(KINDS.index(k))
    return (
        np.array(plane, dtype=np.int16),
        np.array(xs, dtype=np.int16),
        np.array(ys, dtype=np.int16),
        np.array(kind, dtype=np.int8),
    )


CELL_PLANE, CELL_X, CELL_Y, CELL_KIND = _build()
N_CELLS = int(CELL_PLANE.size)


def _slices(labels: np.ndarray, n: int) -> tuple[slice, ...]:
    out = []
    for k in range(n):
        idx = np.flatnonzero(labels == k)
        assert idx.size and np.all(np.diff(idx) == 1), "cells of one group must be contiguous"
        out.append(slice(int(idx[0]), int(idx[-1]) + 1))
    return tuple(out)


KIND_SLICES = _slices(CELL_KIND, len(KINDS))
PLANE_SLICES = _slices(CELL_PLANE, len(PLANES))


def plane_index(name: str) -> int:
    for i, p in enumerate(PLANES):
        if p[0] == name:
            return i
    raise ValueError(f"unknown plane {name!r}; planes are {[p[0] for p in PLANES]}")
