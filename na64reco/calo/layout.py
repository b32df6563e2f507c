"""Where every SADC cell sits in the dense per-event cell vector of the calorimeter code.

Planes follow docs/data-model.md (ECAL0, ECAL1, HCAL0..3, VETO, SRD, S1..S4, V1, V2); a
cell (plane, x, y) has index ``plane_begin[plane] + x * ny + y``, so ECAL cells form
``[section][x][y]``, HCAL ``[module][x][y]``, VETO ``[module][pmt]`` and SRD ``[module]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._core import calo as _calo

__all__ = ["CaloLayout", "DEFAULT_PLANES"]

DEFAULT_PLANES: tuple[tuple[str, int, int], ...] = (
    ("ECAL0", 6, 6),
    ("ECAL1", 6, 6),
    ("HCAL0", 3, 3),
    ("HCAL1", 3, 3),
    ("HCAL2", 3, 3),
    ("HCAL3", 3, 3),
    ("VETO", 6, 1),
    ("SRD", 3, 1),
    ("S1", 1, 1),
    ("S2", 1, 1),
    ("S3", 1, 1),
    ("S4", 1, 1),
    ("V1", 1, 1),
    ("V2", 1, 1),
)


@dataclass(frozen=True)
class CaloLayout:
    """Plane names and shapes in plane-number order, with the derived cell offsets."""

    planes: tuple[tuple[str, int, int], ...] = DEFAULT_PLANES
    ecal_pitch_mm: float = 38.2
    counters: tuple[str, ...] = ("S1", "S2", "S3", "S4")
    begin: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [p[0] for p in self.planes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"calo layout: plane names {sorted(dup)} appear more than once")
        for name, nx, ny in self.planes:
            if nx < 1 or ny < 1:
                raise ValueError(f"calo layout: plane {name} is {nx}x{ny}, expected both >= 1")
        sizes = np.array([nx * ny for _, nx, ny in self.planes], dtype=np.int64)
        object.__setattr__(self, "begin", np.concatenate([[0], np.cumsum(sizes)]))
        for group in (["ECAL0", "ECAL1"], ["VETO"], ["SRD"]):
            missing = [g for g in group if g not in names]
            if missing:
                raise ValueError(f"calo layout: planes {missing} are required, got {names}")

    @classmethod
    def from_planes(cls, planes: Sequence[tuple[str, int, int]], **kw: object) -> "CaloLayout":
        """From (name, nx, ny) triples in plane-number order, e.g. a detector setup's planes."""
        return cls(tuple((str(n), int(x), int(y)) for n, x, y in planes), **kw)  # type: ignore[arg-type]

    @property
    def n_cells(self) -> int:
        return int(self.begin[-1])

    def index(self, name: str) -> int:
        for i, p in enumerate(self.planes):
            if p[0] == name:
                return i
        raise KeyError(f"no calorimeter plane {name!r}; planes are {[p[0] for p in self.planes]}")

    def shape(self, name: str) -> tuple[int, int]:
        _, nx, ny = self.planes[self.index(name)]
        return nx, ny

    def cell_index(self, plane: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Global cell index per row; -1 for unmapped planes or coordinates outside the plane."""
        big = np.iinfo(np.int16)

        def as16(a: np.ndarray) -> np.ndarray:
            a = np.asarray(a)
            if a.dtype != np.int16:  # values beyond int16 cannot be cells: make them -1
                a = np.where((a < big.min) | (a > big.max), -1, a).astype(np.int16)
            return a

        return _calo.cell_index(
            as16(plane), as16(x), as16(y), self.begin[:-1].tolist(),
            [p[1] for p in self.planes], [p[2] for p in self.planes],
        )  # fmt: skip

    def cells_of(self, name: str) -> slice:
        i = self.index(name)
        return slice(int(self.begin[i]), int(self.begin[i + 1]))

    def hcal_planes(self) -> list[str]:
        return [p[0] for p in self.planes if p[0].startswith("HCAL")]

    def core_layout(self) -> _calo.CaloLayout:
        """The C++ view: contiguous ECAL sections, HCAL modules, VETO and SRD blocks."""
        lay = _calo.CaloLayout()
        lay.n_cells = self.n_cells
        e0, e1 = self.index("ECAL0"), self.index("ECAL1")
        if e1 != e0 + 1 or self.shape("ECAL0") != self.shape("ECAL1"):
            raise ValueError("calo layout: ECAL0 and ECAL1 must be consecutive planes of the same shape")
        lay.ecal_begin = int(self.begin[e0])
        lay.ecal_sections = 2
        lay.ecal_nx, lay.ecal_ny = self.shape("ECAL0")
        hcal = self.hcal_planes()
        if hcal:
            idx = [self.index(h) for h in hcal]
            if idx != list(range(idx[0], idx[0] + len(idx))) or len({self.shape(h) for h in hcal}) != 1:
                raise ValueError(f"calo layout: HCAL planes {hcal} must be consecutive and of one shape")
            lay.hcal_begin = int(self.begin[idx[0]])
            lay.hcal_modules = len(hcal)
            lay.hcal_nx, lay.hcal_ny = self.shape(hcal[0])
        else:
            lay.hcal_begin, lay.hcal_modules = 0, 0
        veto_nx, veto_ny = self.shape("VETO")
        if (veto_nx * veto_ny) % 2:
            raise ValueError(f"calo layout: VETO has {veto_nx * veto_ny} cells, expected two PMTs per module")
        lay.veto_begin = int(self.begin[self.index("VETO")])
        lay.veto_modules = veto_nx * veto_ny // 2
        lay.srd_begin = int(self.begin[self.index("SRD")])
        srd_nx, srd_ny = self.shape("SRD")
        lay.srd_modules = srd_nx * srd_ny
        lay.ecal_pitch_mm = self.ecal_pitch_mm
        lay.validate()
        return lay

    def counter_cells(self) -> list[int]:
        return [int(self.begin[self.index(c)]) for c in self.counters if c in [p[0] for p in self.planes]]
