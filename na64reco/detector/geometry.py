"""Detector geometry: calorimeter cell centres and straw wire positions, from TOML.

Coordinates: z along the beam (0 = ECAL front face), x horizontal, y vertical, in mm. A
calorimeter plane is an ``nx`` x ``ny`` grid of square cells of ``pitch_mm`` centred on
(``x_mm``, ``y_mm``); cell (0, 0) has the lowest x and y. A straw plane measures one
coordinate u (x or y): layer ``l``, tube ``t`` has its wire at
``u = centre_mm + (t - (tubes - 1) / 2) * pitch_mm + l * layer_offset_mm`` and
``z = z_mm + l * layer_dz_mm``; the two layers are staggered by half a pitch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..columns import Columns
from .errors import ConfigError
from .runs import RunRange, load_toml, read_toml_range

__all__ = ["SADC_PLANES", "STRAW_PLANES", "Geometry", "read_geometry"]

#: Plane order of every SADC table (docs/data-model.md): plane numbers are these positions.
SADC_PLANES = ("ECAL0", "ECAL1", "HCAL0", "HCAL1", "HCAL2", "HCAL3", "VETO", "SRD",
               "S1", "S2", "S3", "S4", "V1", "V2")
#: Straw planes, in the order of the ``plane`` column of annotated TDC hits.
STRAW_PLANES = ("ST1X", "ST1Y", "ST2X", "ST2Y")

_SADC_KEYS = {"name": str, "kind": str, "nx": int, "ny": int, "pitch_mm": float,
              "x_mm": float, "y_mm": float, "z_mm": float}
_STRAW_KEYS = {"name": str, "station": str, "measures": str, "tubes": int, "layers": int,
               "pitch_mm": float, "centre_mm": float, "z_mm": float, "layer_dz_mm": float,
               "layer_offset_mm": float, "tube_radius_mm": float}


def _entries(doc: dict, table: str, keys: dict[str, type], path: Path) -> dict[str, np.ndarray]:
    rows = doc.get(table)
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"missing [[{table}]] entries", path)
    cols: dict[str, list[Any]] = {k: [] for k in keys}
    for i, row in enumerate(rows):
        label = f"[[{table}]] #{i + 1} ({row.get('name', '?')})"
        unknown = sorted(set(row) - set(keys))
        if unknown:
            raise ConfigError(f"{label}: unknown keys {unknown}; expected {sorted(keys)}", path)
        for key, kind in keys.items():
            if key not in row:
                raise ConfigError(f"{label}: missing key {key!r}", path)
            value = row[key]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float \
                else isinstance(value, kind) and not isinstance(value, bool)
            if not ok:
                raise ConfigError(f"{label}: {key} = {value!r}, expected {kind.__name__}", path)
            if kind is int and value <= 0:
                raise ConfigError(f"{label}: {key} = {value}, expected a positive count", path)
            cols[key].append(value)
    return {k: np.asarray(v, dtype=float if keys[k] is float else None) for k, v in cols.items()}


@dataclass(frozen=True)
class Geometry:
    """Positions of calorimeter cells and straw wires valid for one run range."""

    runs: RunRange
    sadc_planes: Columns  # name, kind, nx, ny, pitch_mm, x_mm, y_mm, z_mm (SADC_PLANES order)
    straw_planes: Columns  # name, station, measures, tubes, layers, pitch_mm, ... (STRAW_PLANES order)

    @property
    def path(self) -> Path:
        return self.runs.path

    def cell_center(self, plane, x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x_mm, y_mm, z_mm) of cell centres; plane is an index into SADC_PLANES."""
        p = np.asarray(plane, dtype=np.int64)
        t = self.sadc_planes
        pitch = t.pitch_mm[p]
        xc = t.x_mm[p] + (np.asarray(x) - (t.nx[p] - 1) / 2.0) * pitch
        yc = t.y_mm[p] + (np.asarray(y) - (t.ny[p] - 1) / 2.0) * pitch
        xc, yc, zc = np.broadcast_arrays(xc, yc, t.z_mm[p])
        return xc.copy(), yc.copy(), zc.copy()

    def wire_position(self, plane, layer, tube) -> tuple[np.ndarray, np.ndarray]:
        """(u_mm, z_mm) of straw wires; plane is an index into STRAW_PLANES."""
        p = np.asarray(plane, dtype=np.int64)
        layer = np.asarray(layer)
        t = self.straw_planes
        u = t.centre_mm[p] + (np.asarray(tube) - (t.tubes[p] - 1) / 2.0) * t.pitch_mm[p] \
            + layer * t.layer_offset_mm[p]
        return u, t.z_mm[p] + layer * t.layer_dz_mm[p]

    def nearest_tube(self, plane, layer, u_mm) -> tuple[np.ndarray, np.ndarray]:
        """(tube, signed distance u - wire in mm) of the tube nearest to u; tube -1 when u is
        outside the layer (farther than half a pitch from the outermost wires)."""
        p = np.asarray(plane, dtype=np.int64)
        t = self.straw_planes
        u0, _ = self.wire_position(p, layer, 0)
        k = np.rint((np.asarray(u_mm, dtype=float) - u0) / t.pitch_mm[p]).astype(np.int64)
        inside = (k >= 0) & (k < t.tubes[p])
        tube = np.where(inside, k, -1)
        wire, _ = self.wire_position(p, layer, np.clip(k, 0, t.tubes[p] - 1))
        return tube, np.asarray(u_mm, dtype=float) - wire


def read_geometry(path: Path) -> Geometry:
    doc = load_toml(path)
    runs = read_toml_range(path, doc)
    unknown = sorted(set(doc) - {"first_run", "last_run", "description", "sadc_plane", "straw_plane"})
    if unknown:
        raise ConfigError(f"unknown top-level keys {unknown}", path)
    sadc = _entries(doc, "sadc_plane", _SADC_KEYS, path)
    straw = _entries(doc, "straw_plane", _STRAW_KEYS, path)
    for table, names, expected in (("sadc_plane", sadc["name"], SADC_PLANES),
                                   ("straw_plane", straw["name"], STRAW_PLANES)):
        if tuple(names.tolist()) != expected:
            raise ConfigError(
                f"[[{table}]] names are {list(names)}; expected exactly {list(expected)} in this "
                "order (plane numbers are a cross-module contract, docs/data-model.md)", path)
    bad = np.flatnonzero(~np.isin(straw["measures"], ["x", "y"]))
    if bad.size:
        raise ConfigError(f"[[straw_plane]] {straw['name'][bad[0]]}: measures must be 'x' or 'y'", path)
    bad = np.flatnonzero(straw["layers"] != 2)
    if bad.size:
        raise ConfigError(f"[[straw_plane]] {straw['name'][bad[0]]}: layers must be 2 (staggered doublet)", path)
    for table, cols in (("sadc_plane", sadc), ("straw_plane", straw)):
        nonpos = np.flatnonzero(cols["pitch_mm"] <= 0)
        if nonpos.size:
            raise ConfigError(f"[[{table}]] {cols['name'][nonpos[0]]}: pitch_mm must be > 0", path)
    return Geometry(runs=runs, sadc_planes=Columns(sadc), straw_planes=Columns(straw))
