"""Channel maps: DDD version-2 lines ``name srcID port chip_channel x y`` for MSADC cells and
``name srcID port chip_chan layer tube`` for straw tubes on F1 TDCs.

The plane name says which kind a line is. Numbers are decimal or ``0x`` hexadecimal.
MSADC: chip = chip_channel >> 4, channel = chip_channel & 0xF. F1: chip = chip_chan >> 3,
channel = chip_chan & 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..columns import Columns
from .errors import ConfigError
from .geometry import SADC_PLANES, STRAW_PLANES, Geometry
from .runs import RunRange, read_data_lines

__all__ = ["ChannelMap", "read_map", "address_key", "split_address_key"]

_MUX_SOURCE_MIN = 896


def address_key(source_id, port, chip, channel) -> np.ndarray:
    """One int64 per readout address, for sorted lookups."""
    s = np.asarray(source_id, dtype=np.int64)
    return ((s * 256 + np.asarray(port, dtype=np.int64)) * 256 + np.asarray(chip, dtype=np.int64)) * 256 \
        + np.asarray(channel, dtype=np.int64)


def split_address_key(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(source_id, port, chip, channel) of keys made by ``address_key``."""
    key = np.asarray(key, dtype=np.int64)
    return key >> 24, (key >> 16) & 0xFF, (key >> 8) & 0xFF, key & 0xFF


@dataclass(frozen=True)
class ChannelMap:
    runs: RunRange
    sadc: Columns  # plane, source_id, port, chip, channel, x, y, line
    straw: Columns  # plane, source_id, port, chip, channel, layer, tube, line

    @property
    def path(self) -> Path:
        return self.runs.path


def _number(token: str, what: str, lo: int, hi: int, path: Path, line: int) -> int:
    try:
        value = int(token, 0)
    except ValueError:
        raise ConfigError(f"{what} {token!r} is not an integer", path, line) from None
    if not lo <= value <= hi:
        raise ConfigError(f"{what} {value} out of range {lo}..{hi}", path, line)
    return value


def read_map(path: Path, geometry: Geometry) -> ChannelMap:
    sadc_index = {n: i for i, n in enumerate(SADC_PLANES)}
    straw_index = {n: i for i, n in enumerate(STRAW_PLANES)}
    g_sadc, g_straw = geometry.sadc_planes, geometry.straw_planes
    sadc_rows: list[tuple[int, ...]] = []
    straw_rows: list[tuple[int, ...]] = []
    address_line: dict[tuple[int, int, int, int], int] = {}
    cell_line: dict[tuple[str, int, int, int], int] = {}
    runs, rows = read_data_lines(
        path, 6, "'name srcID port chip_channel x y' (or '... layer tube' for straws)")
    for number, fields in rows:
        name = fields[0]
        source = _number(fields[1], "srcID", 0, _MUX_SOURCE_MIN - 1, path, number)
        if name in sadc_index:
            p = sadc_index[name]
            port = _number(fields[2], "port", 0, 7, path, number)
            cc = _number(fields[3], "chip_channel", 0, 0x3F, path, number)
            chip, chan = cc >> 4, cc & 0xF
            a = _number(fields[4], f"x of {name}", 0, int(g_sadc.nx[p]) - 1, path, number)
            b = _number(fields[5], f"y of {name}", 0, int(g_sadc.ny[p]) - 1, path, number)
            sadc_rows.append((p, source, port, chip, chan, a, b, number))
        elif name in straw_index:
            p = straw_index[name]
            port = _number(fields[2], "port", 0, 15, path, number)
            cc = _number(fields[3], "chip_chan", 0, 0x3F, path, number)
            chip, chan = cc >> 3, cc & 7
            a = _number(fields[4], f"layer of {name}", 0, int(g_straw.layers[p]) - 1, path, number)
            b = _number(fields[5], f"tube of {name}", 0, int(g_straw.tubes[p]) - 1, path, number)
            straw_rows.append((p, source, port, chip, chan, a, b, number))
        else:
            raise ConfigError(
                f"unknown plane {name!r}; SADC planes are {', '.join(SADC_PLANES)}, straw planes "
                f"{', '.join(STRAW_PLANES)}", path, number)
        address = (source, port, chip, chan)
        if address in address_line:
            raise ConfigError(
                f"channel srcID {source} port {port} chip {chip} channel {chan} mapped twice "
                f"(first on line {address_line[address]})", path, number)
        address_line[address] = number
        cell = (name, a, b, 0)
        if cell in cell_line:
            what = "layer/tube" if name in straw_index else "cell x/y"
            raise ConfigError(f"{name} {what} {a} {b} mapped twice (first on line {cell_line[cell]})",
                              path, number)
        cell_line[cell] = number
    return ChannelMap(runs=runs, sadc=_table(sadc_rows, ("x", "y")), straw=_table(straw_rows, ("layer", "tube")))


def _table(rows: list[tuple[int, ...]], last: tuple[str, str]) -> Columns:
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 8)
    types = [("plane", np.int16), ("source_id", np.uint16), ("port", np.uint8), ("chip", np.uint8),
             ("channel", np.uint8), (last[0], np.int16 if last[0] == "x" else np.int8),
             (last[1], np.int16), ("line", np.int32)]
    return Columns({name: arr[:, i].astype(t) for i, (name, t) in enumerate(types)})
