"""Energy calibration of SADC cells: MeV per ADC count and per-spill LED corrections.

Gains file: ``runs FIRST LAST`` then lines ``plane x y mev_per_adc`` (MeV per ADC count of
pulse amplitude above pedestal). LED file: ``runs FIRST LAST`` then lines
``run spill plane x y factor``. The energy of a cell is
``amplitude * mev_per_adc * led_correction``; a spill without an LED entry for a cell uses
the average of that cell over the run's spills, and a run without entries uses 1.0.
Cells are numbered plane by plane (SADC_PLANES order), row-major: ``offset + y * nx + x``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .geometry import SADC_PLANES
from .runs import read_data_lines

__all__ = ["Calibration", "read_gains", "read_led"]


def _cell(fields: list[str], shapes: dict[str, tuple[int, int]], offsets: dict[str, int],
          path: Path, number: int) -> int:
    name = fields[0]
    if name not in shapes:
        raise ConfigError(f"unknown SADC plane {name!r}; planes are {', '.join(SADC_PLANES)}", path, number)
    nx, ny = shapes[name]
    try:
        x, y = int(fields[1]), int(fields[2])
    except ValueError:
        raise ConfigError(f"cell x/y {fields[1]!r} {fields[2]!r} are not integers", path, number) from None
    if not (0 <= x < nx and 0 <= y < ny):
        raise ConfigError(f"{name} cell ({x}, {y}) outside its {nx}x{ny} grid", path, number)
    return offsets[name] + y * nx + x


def _positive(token: str, what: str, path: Path, number: int) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ConfigError(f"{what} {token!r} is not a number", path, number) from None
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{what} {value} must be finite and > 0", path, number)
    return value


def read_gains(path: Path, shapes, offsets, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(mev_per_adc per cell (NaN = absent), line number per cell (0 = absent))."""
    gains = np.full(n_cells, np.nan)
    lines = np.zeros(n_cells, dtype=np.int64)
    _, rows = read_data_lines(path, 4, "'plane x y mev_per_adc'")
    for number, fields in rows:
        cell = _cell(fields, shapes, offsets, path, number)
        if lines[cell]:
            raise ConfigError(f"{fields[0]} cell ({fields[1]}, {fields[2]}) calibrated twice "
                              f"(first on line {lines[cell]})", path, number)
        gains[cell] = _positive(fields[3], "mev_per_adc", path, number)
        lines[cell] = number
    return gains, lines


def read_led(path: Path, run: int, shapes, offsets, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """(spills of ``run`` with entries, factors (n_spills, n_cells) with NaN = absent)."""
    entries: dict[tuple[int, int], tuple[float, int]] = {}
    runs, rows = read_data_lines(path, 6, "'run spill plane x y factor'")
    for number, fields in rows:
        try:
            r, spill = int(fields[0]), int(fields[1])
        except ValueError:
            raise ConfigError(f"run/spill {fields[0]!r} {fields[1]!r} are not integers", path, number) from None
        if not runs.contains(r):
            raise ConfigError(f"run {r} outside this file's range {runs}", path, number)
        cell = _cell(fields[2:5], shapes, offsets, path, number)
        factor = _positive(fields[5], "LED factor", path, number)
        if r != run:
            continue
        if (spill, cell) in entries:
            raise ConfigError(f"LED factor for run {r} spill {spill} {fields[2]} ({fields[3]}, "
                              f"{fields[4]}) given twice (first on line {entries[spill, cell][1]})",
                              path, number)
        entries[spill, cell] = (factor, number)
    spills = np.unique(np.asarray([s for s, _ in entries], dtype=np.int64))
    table = np.full((spills.size, n_cells), np.nan)
    for (spill, cell), (factor, _) in entries.items():
        table[np.searchsorted(spills, spill), cell] = factor
    return spills, table


@dataclass(frozen=True)
class Calibration:
    """Calibration of one run: arrays indexed by cell number (see ``Setup.cell_index``)."""

    run: int
    mev_per_adc: np.ndarray  # (n_cells,) NaN for cells with no gain (unmapped cells only)
    led_spills: np.ndarray  # (n_spills,) spills of this run with LED entries, sorted
    led_factors: np.ndarray  # (n_spills, n_cells) NaN where a spill lacks a cell
    led_run_average: np.ndarray  # (n_cells,) mean over the run's spills, 1.0 when none
    gains_file: Path
    led_file: Path | None

    def led_correction(self, spill, cell) -> np.ndarray:
        """Per-spill LED factor of each (spill, cell), falling back to the run average
        (1-D float64; arguments broadcast together)."""
        spill, cell = (np.atleast_1d(np.asarray(a, dtype=np.int64))
                       for a in np.broadcast_arrays(spill, cell))
        out = self.led_run_average[cell].copy()
        if self.led_spills.size:
            i = np.clip(np.searchsorted(self.led_spills, spill), 0, self.led_spills.size - 1)
            found = self.led_spills[i] == spill
            value = self.led_factors[i, cell]
            use = found & ~np.isnan(value)
            out[use] = value[use]
        return out

    def mev(self, amplitude, spill, cell) -> np.ndarray:
        """Energy in MeV of amplitudes (ADC counts above pedestal) of cells in spills."""
        cell = np.asarray(cell, dtype=np.int64)
        return np.asarray(amplitude, dtype=float) * self.mev_per_adc[cell] * self.led_correction(spill, cell)

    @staticmethod
    def run_average(factors: np.ndarray) -> np.ndarray:
        have = ~np.isnan(factors)
        count = have.sum(axis=0)
        total = np.where(have, factors, 0.0).sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), 1.0)
