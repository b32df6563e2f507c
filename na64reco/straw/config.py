"""Straw configuration files: plane geometry and the r(t) relation, with file:line errors.

r(t) file: rows ``t_ns r_mm [err_mm]`` (a table, times strictly increasing, radii
non-decreasing), or a polynomial::

    poly   0.0 0.06 -0.0002     # r = c0 + c1 t + c2 t^2 ...  (mm, t in ns after t0)
    window 0 80                 # drift window in ns
    error  0.15                 # mm

Geometry: the detector description's straw planes (na64reco.detector) with t0 from
data/straw/t0.txt, or a geometry text file like data/straw/geometry_toy.txt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core import straw as _straw

__all__ = [
    "DEFAULT_T0",
    "StrawConfigError",
    "geometry_from_setup",
    "load_t0",
    "StrawGeometry",
    "load_rt",
    "load_geometry",
    "DEFAULT_RT",
    "TOY_GEOMETRY",
]

_DATA = Path(__file__).resolve().parent.parent / "data" / "straw"
DEFAULT_RT = _DATA / "rt_default.txt"
TOY_GEOMETRY = _DATA / "geometry_toy.txt"  # three stations, for tests and toy studies
DEFAULT_T0 = _DATA / "t0.txt"


class StrawConfigError(ValueError):
    """An r(t) or geometry file that cannot be used; the message names file and line."""


def _rows(path: Path):
    try:
        text = path.read_text()
    except OSError as exc:
        raise StrawConfigError(f"{path}: cannot read: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if fields:
            yield number, fields


def _numbers(path: Path, number: int, fields: list[str]) -> list[float]:
    out = []
    for f in fields:
        try:
            v = float(f)
        except ValueError:
            raise StrawConfigError(f"{path}:{number}: {f!r} is not a number") from None
        if not np.isfinite(v):
            raise StrawConfigError(f"{path}:{number}: {f!r} is not finite")
        out.append(v)
    return out


def load_rt(path: str | Path | None = None, default_err_mm: float = 0.15) -> _straw.RtRelation:
    """The r(t) relation of a file (package default when None)."""
    path = Path(path) if path is not None else DEFAULT_RT
    table: list[tuple[int, list[float]]] = []
    poly: list[float] | None = None
    window: list[float] | None = None
    error = default_err_mm
    for number, fields in _rows(path):
        key = fields[0]
        if key == "poly":
            poly = _numbers(path, number, fields[1:])
            if not poly:
                raise StrawConfigError(f"{path}:{number}: 'poly' needs at least one coefficient")
        elif key == "window":
            window = _numbers(path, number, fields[1:])
            if len(window) != 2 or not window[1] > window[0]:
                raise StrawConfigError(f"{path}:{number}: expected 'window T_MIN T_MAX' with T_MAX > T_MIN")
        elif key == "error":
            vals = _numbers(path, number, fields[1:])
            if len(vals) != 1 or vals[0] <= 0:
                raise StrawConfigError(f"{path}:{number}: expected 'error ERR_MM' with ERR_MM > 0")
            error = vals[0]
        else:
            vals = _numbers(path, number, fields)
            if len(vals) not in (2, 3):
                raise StrawConfigError(f"{path}:{number}: expected 't_ns r_mm [err_mm]', got {len(vals)} values")
            if len(vals) == 3 and vals[2] <= 0:
                raise StrawConfigError(f"{path}:{number}: error {vals[2]} mm must be > 0")
            if vals[1] < 0:
                raise StrawConfigError(f"{path}:{number}: radius {vals[1]} mm must be >= 0")
            if table:
                prev_line, prev = table[-1]
                if not vals[0] > prev[0]:
                    raise StrawConfigError(
                        f"{path}:{number}: time {vals[0]} ns does not increase after {prev[0]} ns (line {prev_line})"
                    )
                if vals[1] < prev[1]:
                    raise StrawConfigError(
                        f"{path}:{number}: r(t) not monotonic: radius {vals[1]} mm after {prev[1]} mm (line {prev_line})"
                    )
            table.append((number, vals))
    if poly is not None:
        if table:
            raise StrawConfigError(f"{path}: has both a 'poly' line and table rows; use one form")
        if window is None:
            raise StrawConfigError(f"{path}: a polynomial r(t) needs a 'window T_MIN T_MAX' line")
        try:
            return _straw.RtRelation.polynomial(poly, window[0], window[1], error)
        except ValueError as exc:
            raise StrawConfigError(f"{path}: {exc}") from None
    if len(table) < 2:
        raise StrawConfigError(f"{path}: an r(t) table needs at least 2 rows, found {len(table)}")
    t = [v[0] for _, v in table]
    r = [v[1] for _, v in table]
    err = [v[2] if len(v) == 3 else error for _, v in table]
    return _straw.RtRelation.table(t, r, err)


@dataclass(frozen=True)
class StrawGeometry:
    """Straw planes in plane-number order."""

    names: tuple[str, ...]
    planes: tuple[_straw.StrawPlane, ...]

    @property
    def n_stations(self) -> int:
        return 1 + max((p.station for p in self.planes), default=-1)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no straw plane {name!r}; planes are {list(self.names)}") from None

    def tube_centre(self, plane: np.ndarray, layer: np.ndarray, tube: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, z) of tube centres, vectorised."""
        arr = self.arrays()
        plane = np.asarray(plane, dtype=np.int64)
        u = arr["u_first_mm"][plane] + tube * arr["pitch_mm"][plane] + layer * arr["layer_shift_mm"][plane]
        z = arr["z_mm"][plane] + layer * arr["layer_dz_mm"][plane]
        return u, z

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ["station", "axis", "z_mm", "layer_dz_mm", "pitch_mm", "u_first_mm", "layer_shift_mm", "n_tubes", "t0_ns"]
        return {k: np.array([getattr(p, k) for p in self.planes]) for k in keys}


def load_t0(run: int, names: tuple[str, ...], path: str | Path | None = None) -> np.ndarray:
    """t0 (ns) per named plane for `run`; every plane must get exactly one value."""
    path = Path(path) if path is not None else DEFAULT_T0
    t0 = np.full(len(names), np.nan)
    where = [0] * len(names)
    active = seen = False
    for number, fields in _rows(path):
        if fields[0] == "runs":
            if len(fields) != 3:
                raise StrawConfigError(f"{path}:{number}: expected 'runs FIRST LAST'")
            lo, hi = _numbers(path, number, fields[1:])
            active, seen = lo <= run <= hi, True
            continue
        if not seen:
            raise StrawConfigError(f"{path}:{number}: data before the first 'runs FIRST LAST' line")
        if not active:
            continue
        if len(fields) != 2:
            raise StrawConfigError(f"{path}:{number}: expected 'plane t0_ns', got {len(fields)} fields")
        (value,) = _numbers(path, number, fields[1:])
        if fields[0] == "*":
            targets = list(range(len(names)))
        elif fields[0] in names:
            targets = [names.index(fields[0])]
        else:
            raise StrawConfigError(f"{path}:{number}: unknown straw plane {fields[0]!r}; planes are {list(names)}")
        for k in targets:
            if where[k]:
                raise StrawConfigError(f"{path}:{number}: t0 of {names[k]} given twice (first at line {where[k]})")
            t0[k] = value
            where[k] = number
    missing = [n for n, w in zip(names, where) if not w]
    if missing:
        raise StrawConfigError(f"{path}: run {run}: no t0 for planes {missing}")
    return t0


def geometry_from_setup(run: int, setup=None, t0_path: str | Path | None = None) -> StrawGeometry:
    """Straw planes of the detector description (``na64reco.detector``) for `run`, in its
    plane numbering (what ``annotate_tdc`` assigns), with t0 from this package's t0 file."""
    from ..detector import load_setup

    setup = setup if setup is not None else load_setup(run)
    t = setup.geometry.straw_planes
    names = tuple(str(n) for n in t["name"])
    stations = sorted(set(str(s) for s in t["station"]), key=lambda s: list(map(str, t["station"])).index(s))
    t0 = load_t0(run, names, t0_path)
    planes = []
    for k in range(len(names)):
        p = _straw.StrawPlane()
        p.station = stations.index(str(t["station"][k]))
        p.axis = 0 if str(t["measures"][k]) == "x" else 1
        p.z_mm = float(t["z_mm"][k])
        p.layer_dz_mm = float(t["layer_dz_mm"][k])
        p.pitch_mm = float(t["pitch_mm"][k])
        p.u_first_mm = float(t["centre_mm"][k]) - (int(t["tubes"][k]) - 1) / 2.0 * p.pitch_mm
        p.layer_shift_mm = float(t["layer_offset_mm"][k])
        p.n_tubes = int(t["tubes"][k])
        p.t0_ns = float(t0[k])
        planes.append(p)
    return StrawGeometry(names, tuple(planes))


def load_geometry(run: int = 0, path: str | Path | None = None) -> StrawGeometry:
    """Straw planes valid for `run`: the detector description's (geometry_from_setup) when
    path is None, else those of a geometry text file (format: data/straw/geometry_toy.txt)."""
    if path is None:
        return geometry_from_setup(run)
    path = Path(path)
    names: list[str] = []
    lines: list[int] = []
    planes: list[_straw.StrawPlane] = []
    active = False
    seen_block = False
    for number, fields in _rows(path):
        if fields[0] == "runs":
            if len(fields) != 3:
                raise StrawConfigError(f"{path}:{number}: expected 'runs FIRST LAST'")
            lo, hi = _numbers(path, number, fields[1:])
            active = lo <= run <= hi
            seen_block = True
            continue
        if not seen_block:
            raise StrawConfigError(f"{path}:{number}: data before the first 'runs FIRST LAST' line")
        if not active:
            continue
        if len(fields) != 10:
            raise StrawConfigError(
                f"{path}:{number}: expected 'name station axis z_mm layer_dz_mm pitch_mm u_first_mm "
                f"layer_shift_mm n_tubes t0_ns', got {len(fields)} fields"
            )
        name = fields[0]
        if name in names:
            raise StrawConfigError(f"{path}:{number}: plane {name} defined twice (first at line {lines[names.index(name)]})")
        if fields[2] not in ("X", "Y"):
            raise StrawConfigError(f"{path}:{number}: axis {fields[2]!r}, expected X or Y")
        v = _numbers(path, number, [fields[1]] + fields[3:])
        p = _straw.StrawPlane()
        p.station = int(v[0])
        p.axis = 0 if fields[2] == "X" else 1
        p.z_mm, p.layer_dz_mm, p.pitch_mm, p.u_first_mm, p.layer_shift_mm = v[1:6]
        p.n_tubes = int(v[6])
        p.t0_ns = v[7]
        if p.station < 0 or p.pitch_mm <= 0 or p.n_tubes < 1 or v[6] != p.n_tubes or v[0] != p.station:
            raise StrawConfigError(
                f"{path}:{number}: station {v[0]}, pitch {p.pitch_mm} mm, {v[6]} tubes; expected "
                "integers station >= 0, tubes >= 1 and pitch > 0"
            )
        names.append(name)
        lines.append(number)
        planes.append(p)
    if not planes:
        raise StrawConfigError(f"{path}: no straw planes for run {run}")
    return StrawGeometry(tuple(names), tuple(planes))
