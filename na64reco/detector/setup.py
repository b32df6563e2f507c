"""``load_setup(run)``: the maps, geometry and calibration valid for one run, with lookups."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..columns import Columns
from .calibration import Calibration, read_gains, read_led
from .errors import ConfigError
from .geometry import SADC_PLANES, STRAW_PLANES, Geometry, read_geometry
from .maps import ChannelMap, address_key, read_map, split_address_key
from .runs import RunRange, check_overlaps, read_text_range, read_toml_range, select_file

__all__ = ["Setup", "load_setup", "PACKAGE_DATA", "CONFIG_KINDS"]

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
#: kind -> glob under a data directory
CONFIG_KINDS = {
    "geometry": "geometry*.toml",
    "maps": "maps/*.map",
    "gains": "calib/gains*.txt",
    "led": "calib/led*.txt",
}
#: the environment variable naming a user data directory (same layout as na64reco/data)
DATA_DIR_ENV = "NA64RECO_DATA_DIR"


@dataclass(frozen=True, eq=False)
class Setup:
    """Everything known about the detector for one run. Tables are ``Columns``."""

    run: int
    geometry: Geometry
    channel_map: ChannelMap
    calibration: Calibration
    files: dict[str, Path]
    _plane_offset: np.ndarray = field(repr=False)
    _sadc_keys: np.ndarray = field(repr=False)
    _sadc_rows: np.ndarray = field(repr=False)
    # per sorted SADC key: plane, x, y (int16) and cell (int32) of its map row, with -1
    # appended so that the lookup's -1 (unmapped) picks -1
    _sadc_by_key: dict[str, np.ndarray] = field(repr=False)
    _straw_keys: np.ndarray = field(repr=False)
    _straw_rows: np.ndarray = field(repr=False)
    _straw_by_key: dict[str, np.ndarray] = field(repr=False)  # plane, layer, tube, as _sadc_by_key
    _cell_address: np.ndarray = field(repr=False)  # (n_cells, 4) source, port, chip, channel; -1
    _tube_address: np.ndarray = field(repr=False)  # (n_tubes, 4)
    _tube_offset: np.ndarray = field(repr=False)

    planes: tuple[str, ...] = SADC_PLANES
    straw_planes: tuple[str, ...] = STRAW_PLANES

    # ---- shapes and numbering
    @property
    def sadc_map(self) -> Columns:
        return self.channel_map.sadc

    @property
    def straw_map(self) -> Columns:
        return self.channel_map.straw

    def plane_index(self, name: str) -> int:
        if name in self.planes:
            return self.planes.index(name)
        if name in self.straw_planes:
            return self.straw_planes.index(name)
        raise KeyError(f"no plane {name!r}; SADC planes {self.planes}, straw planes {self.straw_planes}")

    def plane_shape(self, name: str) -> tuple[int, int]:
        """(nx, ny) of an SADC plane, (layers, tubes) of a straw plane."""
        p = self.plane_index(name)
        if name in self.planes:
            g = self.geometry.sadc_planes
            return int(g.nx[p]), int(g.ny[p])
        g = self.geometry.straw_planes
        return int(g.layers[p]), int(g.tubes[p])

    @property
    def n_cells(self) -> int:
        return int(self._plane_offset[-1])

    def cell_index(self, plane, x, y) -> np.ndarray:
        """Cell number ``offset[plane] + y * nx + x`` (int64), -1 for planes/cells out of range."""
        plane = np.asarray(plane, dtype=np.int64)
        x = np.asarray(x, dtype=np.int64)
        y = np.asarray(y, dtype=np.int64)
        n = len(self.planes)
        p = np.clip(plane, 0, n - 1)
        nx, ny = self.geometry.sadc_planes.nx[p], self.geometry.sadc_planes.ny[p]
        ok = (plane >= 0) & (plane < n) & (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
        return np.where(ok, self._plane_offset[p] + y * nx + x, -1)

    # ---- address -> cell
    def annotate_sadc(self, sadc: Mapping[str, Any]) -> Columns:
        """``sadc`` with ``plane`` (int16, -1 = unmapped), ``x``, ``y`` (int16) and ``cell`` (int32,
        the :meth:`cell_index` of the digit's cell, -1 = unmapped) added."""
        return _with(sadc, **_annotate(self._sadc_keys, self._sadc_by_key, sadc))

    def annotate_tdc(self, tdc: Mapping[str, Any]) -> Columns:
        """``tdc`` with ``plane`` (int16 straw plane, -1 = unmapped), ``layer`` (int8), ``tube`` (int16)."""
        return _with(tdc, **_annotate(self._straw_keys, self._straw_by_key, tdc))

    def unmapped(self, table: Mapping[str, Any], kind: str = "sadc") -> Columns:
        """Readout addresses of ``table`` (sadc or tdc digits) that no map line names, with counts."""
        keys, rows = (self._sadc_keys, self._sadc_rows) if kind == "sadc" else (self._straw_keys, self._straw_rows)
        row = _lookup(keys, rows, table)
        key = address_key(table["source_id"], table["port"], table["chip"], table["channel"])
        uniq, count = np.unique(key[row < 0], return_counts=True)
        source, port, chip, channel = split_address_key(uniq)
        return Columns(source_id=source.astype(np.uint16), port=port.astype(np.uint8),
                       chip=chip.astype(np.uint8), channel=channel.astype(np.uint8),
                       count=count.astype(np.int64))

    # ---- cell -> address (for the simulator)
    def sadc_address(self, plane, x, y) -> Columns:
        """Readout address of cells: source_id, port, chip, channel (int32, -1 = not mapped).

        Arguments broadcast together into 1-D arrays (scalars give one row)."""
        plane, x, y = (np.atleast_1d(a) for a in np.broadcast_arrays(plane, x, y))
        cell = self.cell_index(plane, x, y)
        a = np.where((cell >= 0)[..., None], self._cell_address[np.maximum(cell, 0)], -1)
        return Columns(source_id=a[..., 0], port=a[..., 1], chip=a[..., 2], channel=a[..., 3])

    def straw_address(self, plane, layer, tube) -> Columns:
        """Readout address of straw tubes: source_id, port, chip, channel (int32, -1 = not mapped).

        Arguments broadcast together into 1-D arrays (scalars give one row)."""
        plane, layer, tube = (np.atleast_1d(np.asarray(a, dtype=np.int64))
                              for a in np.broadcast_arrays(plane, layer, tube))
        g = self.geometry.straw_planes
        n = len(self.straw_planes)
        p = np.clip(plane, 0, n - 1)
        ok = (plane >= 0) & (plane < n) & (layer >= 0) & (layer < g.layers[p]) & (tube >= 0) & (tube < g.tubes[p])
        idx = np.where(ok, self._tube_offset[p] + layer * g.tubes[p] + tube, 0)
        a = np.where(ok[..., None], self._tube_address[idx], -1)
        return Columns(source_id=a[..., 0], port=a[..., 1], chip=a[..., 2], channel=a[..., 3])


def _with(table: Mapping[str, Any], **new: np.ndarray) -> Columns:
    if isinstance(table, Columns):
        return table.with_columns(**new)
    return Columns({**dict(table), **new})


def _by_key(order: np.ndarray, **columns: tuple[np.ndarray, Any]) -> dict[str, np.ndarray]:
    """Map columns reordered to the sorted keys (``order``: map row of each sorted key), cast,
    with -1 appended: indexed by a key lookup's result, -1 (not in the map) picks -1."""
    return {name: np.append(np.asarray(values)[order].astype(dtype), np.asarray(-1, dtype))
            for name, (values, dtype) in columns.items()}


_DECODED_DTYPES = (np.uint16, np.uint8, np.uint8, np.uint8)


def _lookup(sorted_keys: np.ndarray, rows: np.ndarray, table: Mapping[str, Any]) -> np.ndarray:
    """Map row of each table row's address, -1 when the address is not in the map."""
    at = _key_index(sorted_keys, table)
    return np.where(at >= 0, rows[np.maximum(at, 0)], -1) if rows.size else at


def _annotate(sorted_keys: np.ndarray, by_key: dict[str, np.ndarray], table: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Each ``by_key`` column (``_by_key``) picked for every row of table by its address."""
    raw = _address_columns(table)
    if _decoded(raw):
        # the decoder's own columns: the lookup and every pick in one compiled pass
        from .._core.raw import annotate_by_key

        return dict(zip(by_key, annotate_by_key(sorted_keys, *raw, list(by_key.values()))))
    at = _key_index(sorted_keys, table)
    return {name: column[at] for name, column in by_key.items()}


def _address_columns(table: Mapping[str, Any]) -> list[np.ndarray]:
    for c in ("source_id", "port", "chip", "channel"):
        if c not in table:
            raise ValueError(f"table has no column {c!r}; columns are {list(table)}")
    return [np.asarray(table[c]) for c in ("source_id", "port", "chip", "channel")]


def _decoded(raw: list[np.ndarray]) -> bool:
    return all(a.ndim == 1 and a.dtype == d and a.flags.c_contiguous for a, d in zip(raw, _DECODED_DTYPES))


def _key_index(sorted_keys: np.ndarray, table: Mapping[str, Any]) -> np.ndarray:
    """Index into sorted_keys of each table row's address, -1 when the address is not in the map."""
    raw = _address_columns(table)
    if _decoded(raw):
        # the decoder's own columns: one compiled pass, no int64 copies of a batch's digits
        from .._core.raw import lookup_addresses

        return lookup_addresses(sorted_keys, *raw)
    fields = [a.astype(np.int64) for a in raw]
    key = address_key(*fields)
    if sorted_keys.size == 0:
        return np.full(key.shape, -1, dtype=np.int64)
    i = np.clip(np.searchsorted(sorted_keys, key), 0, sorted_keys.size - 1)
    found = sorted_keys[i] == key
    # a field outside its byte would alias another address in the packed key
    for f in fields[1:]:
        found &= (f >= 0) & (f < 256)
    return np.where(found, i, -1)


def _candidates(kind: str, data_dir: Path | None, files: Mapping[str, Any] | None) -> list[Path]:
    """Files of a kind: explicit ``files[kind]``, else the user directory's, else the package's."""
    if files and kind in files:
        given = files[kind]
        paths = [Path(given)] if isinstance(given, (str, os.PathLike)) else [Path(p) for p in given]
        for p in paths:
            if not p.is_file():
                raise ConfigError(f"{kind} file does not exist", p)
        return paths
    if data_dir is not None:
        found = sorted(data_dir.glob(CONFIG_KINDS[kind]))
        if found:
            return found
    return sorted(PACKAGE_DATA.glob(CONFIG_KINDS[kind]))


_range_cache: dict[tuple[Path, int], RunRange] = {}


def _ranges(paths: list[Path]) -> list[RunRange]:
    out = []
    for p in paths:
        stamp = (p.resolve(), p.stat().st_mtime_ns)
        if stamp not in _range_cache:
            _range_cache[stamp] = read_toml_range(p) if p.suffix == ".toml" else read_text_range(p)
        out.append(_range_cache[stamp])
    return out


def _build(run: int, chosen: dict[str, Path]) -> Setup:
    geometry = read_geometry(chosen["geometry"])
    channel_map = read_map(chosen["maps"], geometry)
    g = geometry.sadc_planes
    sizes = (g.nx * g.ny).astype(np.int64)
    offset = np.concatenate([[0], np.cumsum(sizes)])
    shapes = {n: (int(g.nx[i]), int(g.ny[i])) for i, n in enumerate(SADC_PLANES)}
    offsets = {n: int(offset[i]) for i, n in enumerate(SADC_PLANES)}
    n_cells = int(offset[-1])

    gains, _ = read_gains(chosen["gains"], shapes, offsets, n_cells)
    m = channel_map.sadc
    cells = offset[m.plane.astype(np.int64)] + m.y.astype(np.int64) * g.nx[m.plane] + m.x
    missing = np.flatnonzero(np.isnan(gains[cells]))
    if missing.size:
        i = int(missing[0])
        raise ConfigError(
            f"{SADC_PLANES[m.plane[i]]} cell ({m.x[i]}, {m.y[i]}) is mapped (line {m.line[i]} of "
            f"{channel_map.path}) but has no mev_per_adc", chosen["gains"])
    if "led" in chosen:
        spills, factors = read_led(chosen["led"], run, shapes, offsets, n_cells)
    else:
        spills, factors = np.zeros(0, dtype=np.int64), np.zeros((0, n_cells))
    calibration = Calibration(run=run, mev_per_adc=gains, led_spills=spills, led_factors=factors,
                              led_run_average=Calibration.run_average(factors),
                              gains_file=chosen["gains"], led_file=chosen.get("led"))

    sadc_keys = address_key(m.source_id, m.port, m.chip, m.channel)
    s_order = np.argsort(sadc_keys)
    cell_address = np.full((n_cells, 4), -1, dtype=np.int32)
    cell_address[cells] = np.stack([m.source_id, m.port, m.chip, m.channel], axis=1)

    s = channel_map.straw
    gs = geometry.straw_planes
    tube_sizes = (gs.layers * gs.tubes).astype(np.int64)
    tube_offset = np.concatenate([[0], np.cumsum(tube_sizes)])
    straw_keys = address_key(s.source_id, s.port, s.chip, s.channel)
    t_order = np.argsort(straw_keys)
    tube_address = np.full((int(tube_offset[-1]), 4), -1, dtype=np.int32)
    tubes = tube_offset[s.plane.astype(np.int64)] + s.layer.astype(np.int64) * gs.tubes[s.plane] + s.tube
    tube_address[tubes] = np.stack([s.source_id, s.port, s.chip, s.channel], axis=1)
    return Setup(
        run=run, geometry=geometry, channel_map=channel_map, calibration=calibration, files=dict(chosen),
        _plane_offset=offset, _sadc_keys=sadc_keys[s_order], _sadc_rows=s_order,
        _sadc_by_key=_by_key(s_order, plane=(m.plane, np.int16), x=(m.x, np.int16), y=(m.y, np.int16),
                             cell=(cells, np.int32)),
        _straw_keys=straw_keys[t_order], _straw_rows=t_order,
        _straw_by_key=_by_key(t_order, plane=(s.plane, np.int16), layer=(s.layer, np.int8), tube=(s.tube, np.int16)),
        _cell_address=cell_address,
        _tube_address=tube_address, _tube_offset=tube_offset[:-1],
    )


_setup_cache: dict[tuple, Setup] = {}
_setup_lock = threading.Lock()


def load_setup(run: int, *, data_dir: str | os.PathLike[str] | None = None,
               files: Mapping[str, str | os.PathLike[str] | list] | None = None) -> Setup:
    """The detector setup valid for ``run`` (cached per run and chosen files).

    Files come from ``na64reco/data`` unless overridden: ``data_dir`` (default: the
    ``NA64RECO_DATA_DIR`` environment variable) is a directory laid out like the package
    data, whose files replace the package's kind by kind (``geometry*.toml``, ``maps/*.map``,
    ``calib/gains*.txt``, ``calib/led*.txt``); ``files`` names files per kind explicitly.
    Among the files of a kind, run ranges must not overlap and one must contain ``run``.
    """
    if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or run < 0:
        raise ValueError(f"run must be a non-negative integer, got {run!r}")
    run = int(run)
    if data_dir is None and os.environ.get(DATA_DIR_ENV):
        data_dir = os.environ[DATA_DIR_ENV]
    user_dir = Path(data_dir) if data_dir is not None else None
    if user_dir is not None and not user_dir.is_dir():
        raise ConfigError("data directory does not exist", user_dir)
    unknown = sorted(set(files or ()) - set(CONFIG_KINDS))
    if unknown:
        raise ValueError(f"files: unknown kinds {unknown}; kinds are {sorted(CONFIG_KINDS)}")
    chosen: dict[str, Path] = {}
    for kind in CONFIG_KINDS:
        paths = _candidates(kind, user_dir, files)
        if not paths:
            if kind == "led":
                continue  # LED corrections are optional: factor 1.0
            raise ConfigError(f"no {kind} files ({CONFIG_KINDS[kind]}) in {user_dir or PACKAGE_DATA}")
        ranges = _ranges(paths)
        if kind == "led" and not any(r.contains(run) for r in check_overlaps(kind, ranges)):
            continue
        chosen[kind] = select_file(kind, run, ranges).path
    key = (run,) + tuple((k, p.resolve(), p.stat().st_mtime_ns) for k, p in sorted(chosen.items()))
    with _setup_lock:
        cached = _setup_cache.get(key)
    if cached is None:
        cached = _build(run, chosen)
        with _setup_lock:
            _setup_cache[key] = cached
    return cached


def _clear_cache() -> None:
    with _setup_lock:
        _setup_cache.clear()
        _range_cache.clear()


load_setup.cache_clear = _clear_cache  # type: ignore[attr-defined]
