"""Calorimeter calibration: ADC -> MeV per cell, expected pulse time and its width, and
LED corrections per spill with the run average as fallback; all selected by run range.

Calibration file (one row per cell, ``*`` for every x or y of a plane)::

    runs 0 4999                 # the rows below apply to runs 0..4999 (inclusive)
    # plane  x  y  mev_per_adc  time_mean_ns  time_sigma_ns
    ECAL1    3  3  25.0         0.0           2.0

LED file (``run`` instead of a spill number gives the run average)::

    runs 0 4999
    # spill  plane  x  y  factor
    run      ECAL1  *  *  1.0
    12       ECAL1  3  3  0.97

Every cell of the layout must be calibrated exactly once per run range; anything else is a
``CalibrationError`` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .layout import CaloLayout

__all__ = [
    "CalibrationError",
    "CaloCalibration",
    "calibration_from_setup",
    "load_calibration",
    "DEFAULT_CALIBRATION",
    "DEFAULT_LED",
    "cell_energy",
]

_DATA = Path(__file__).resolve().parent.parent / "data" / "calo"
DEFAULT_CALIBRATION = _DATA / "calibration.txt"
DEFAULT_LED = _DATA / "led.txt"


class CalibrationError(ValueError):
    """A calibration or LED file that cannot be used, with file and line in the message."""


@dataclass(frozen=True)
class CaloCalibration:
    """Per-cell constants (arrays of layout.n_cells) and the LED table of the run."""

    layout: CaloLayout
    mev_per_adc: np.ndarray
    time_mean_ns: np.ndarray
    time_sigma_ns: np.ndarray
    led_run: np.ndarray
    led_spills: np.ndarray  # sorted spill numbers with LED rows
    led_table: np.ndarray  # (len(led_spills), n_cells); NaN where a spill lacks a cell

    def spill_rows(self, spills: np.ndarray) -> np.ndarray:
        """LED row per event (-1 = no LED data that spill: run average)."""
        spills = np.asarray(spills, dtype=np.int64)
        if self.led_spills.size == 0:
            return np.full(spills.shape, -1, dtype=np.int32)
        pos = np.searchsorted(self.led_spills, spills)
        pos_c = np.minimum(pos, self.led_spills.size - 1)
        return np.where(self.led_spills[pos_c] == spills, pos_c, -1).astype(np.int32)

    @classmethod
    def uniform(cls, layout: CaloLayout, mev_per_adc: float = 1.0, time_sigma_ns: float = 2.0) -> "CaloCalibration":
        """Identical constants for every cell (tests, toy studies)."""
        n = layout.n_cells
        return cls(layout, np.full(n, mev_per_adc), np.zeros(n), np.full(n, time_sigma_ns), np.ones(n),
                   np.zeros(0, dtype=np.int64), np.zeros((0, n)))


def _rows(path: Path):
    """(line number, fields) of non-empty lines, comments stripped."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if fields:
            yield number, fields


def _blocks_for_run(path: Path, run: int):
    """Rows of the run-range blocks that contain `run`, with the block's header line."""
    active = False
    header = 0
    seen_block = False
    for number, fields in _rows(path):
        if fields[0] == "runs":
            if len(fields) != 3:
                raise CalibrationError(f"{path}:{number}: expected 'runs FIRST LAST', got {' '.join(fields)!r}")
            try:
                first, last = int(fields[1]), int(fields[2])
            except ValueError:
                raise CalibrationError(f"{path}:{number}: run range {fields[1]!r} {fields[2]!r} is not two integers") from None
            if last < first:
                raise CalibrationError(f"{path}:{number}: run range {first}..{last} is empty")
            active = first <= run <= last
            header = number
            seen_block = True
            continue
        if not seen_block:
            raise CalibrationError(f"{path}:{number}: data before the first 'runs FIRST LAST' line")
        if active:
            yield number, header, fields


def _cells(layout: CaloLayout, path: Path, number: int, plane: str, xs: str, ys: str) -> np.ndarray:
    try:
        p = layout.index(plane)
    except KeyError:
        raise CalibrationError(
            f"{path}:{number}: unknown plane {plane!r}; planes are {[q[0] for q in layout.planes]}"
        ) from None
    _, nx, ny = layout.planes[p]

    def axis(text: str, size: int, name: str) -> np.ndarray:
        if text == "*":
            return np.arange(size)
        try:
            v = int(text)
        except ValueError:
            raise CalibrationError(f"{path}:{number}: {name} = {text!r} is not an integer or '*'") from None
        if not 0 <= v < size:
            raise CalibrationError(f"{path}:{number}: {plane} {name} = {v} outside 0..{size - 1}")
        return np.array([v])

    gx, gy = np.meshgrid(axis(xs, nx, "x"), axis(ys, ny, "y"), indexing="ij")
    return (layout.begin[p] + gx * ny + gy).ravel()


def _floats(path: Path, number: int, texts: list[str], names: list[str]) -> list[float]:
    out = []
    for t, n in zip(texts, names):
        try:
            v = float(t)
        except ValueError:
            raise CalibrationError(f"{path}:{number}: {n} = {t!r} is not a number") from None
        if not np.isfinite(v):
            raise CalibrationError(f"{path}:{number}: {n} = {t!r} is not finite")
        out.append(v)
    return out


def _cell_name(layout: CaloLayout, cell: int) -> str:
    p = int(np.searchsorted(layout.begin, cell, side="right") - 1)
    name, _, ny = layout.planes[p]
    local = cell - int(layout.begin[p])
    return f"{name}({local // ny},{local % ny})"


def load_calibration(
    run: int,
    path: str | Path | None = None,
    led_path: str | Path | None = None,
    layout: CaloLayout | None = None,
) -> CaloCalibration:
    """Calibration valid for `run` (package defaults unless paths are given)."""
    layout = layout or CaloLayout()
    path = Path(path) if path is not None else DEFAULT_CALIBRATION
    led_path = Path(led_path) if led_path is not None else DEFAULT_LED
    n = layout.n_cells
    values = np.full((n, 3), np.nan)
    where = np.zeros(n, dtype=np.int64)  # line that set each cell
    header = 0
    for number, hdr, fields in _blocks_for_run(path, run):
        header = hdr
        if len(fields) != 6:
            raise CalibrationError(
                f"{path}:{number}: expected 'plane x y mev_per_adc time_mean_ns time_sigma_ns', got {len(fields)} fields"
            )
        cells = _cells(layout, path, number, *fields[:3])
        mev, tmean, tsig = _floats(path, number, fields[3:], ["mev_per_adc", "time_mean_ns", "time_sigma_ns"])
        if mev <= 0 or tsig <= 0:
            raise CalibrationError(f"{path}:{number}: mev_per_adc {mev} and time_sigma_ns {tsig} must be > 0")
        twice = cells[where[cells] > 0]
        if twice.size:
            c = int(twice[0])
            raise CalibrationError(
                f"{path}:{number}: cell {_cell_name(layout, c)} calibrated twice (first at line {where[c]})"
            )
        values[cells] = (mev, tmean, tsig)
        where[cells] = number
    if header == 0:
        raise CalibrationError(f"{path}: no 'runs' block covers run {run}")
    missing = np.flatnonzero(where == 0)
    if missing.size:
        names = ", ".join(_cell_name(layout, int(c)) for c in missing[:8])
        more = f" and {missing.size - 8} more" if missing.size > 8 else ""
        raise CalibrationError(
            f"{path}:{header}: run {run}: no calibration for {missing.size} cells: {names}{more}"
        )

    led_run = np.ones(n)
    per_spill: dict[int, np.ndarray] = {}
    if led_path.exists() or led_path != DEFAULT_LED:
        led_seen = np.zeros(n, dtype=np.int64)
        spill_seen: dict[int, np.ndarray] = {}
        for number, _, fields in _blocks_for_run(led_path, run):
            if len(fields) != 5:
                raise CalibrationError(f"{led_path}:{number}: expected 'spill plane x y factor', got {len(fields)} fields")
            cells = _cells(layout, led_path, number, *fields[1:4])
            (factor,) = _floats(led_path, number, fields[4:], ["factor"])
            if factor <= 0:
                raise CalibrationError(f"{led_path}:{number}: LED factor {factor} must be > 0")
            if fields[0] == "run":
                row, seen = led_run, led_seen
            else:
                try:
                    spill = int(fields[0])
                except ValueError:
                    raise CalibrationError(f"{led_path}:{number}: spill {fields[0]!r} is not an integer or 'run'") from None
                row = per_spill.setdefault(spill, np.full(n, np.nan))
                seen = spill_seen.setdefault(spill, np.zeros(n, dtype=np.int64))
            twice = cells[seen[cells] > 0]
            if twice.size:
                c = int(twice[0])
                raise CalibrationError(
                    f"{led_path}:{number}: LED for {_cell_name(layout, c)} given twice (first at line {seen[c]})"
                )
            row[cells] = factor
            seen[cells] = number
    spills = np.array(sorted(per_spill), dtype=np.int64)
    table = np.array([per_spill[s] for s in spills]) if spills.size else np.zeros((0, n))
    return CaloCalibration(layout, values[:, 0].copy(), values[:, 1].copy(), values[:, 2].copy(), led_run, spills, table)


def calibration_from_setup(run: int, setup=None, time_path: str | Path | None = None) -> CaloCalibration:
    """Calibration for `run` from the detector description (``na64reco.detector``: gains
    and LED factors the data were taken with) and the time means/widths of this package's
    calibration file. Cells the detector description does not calibrate keep the file's
    gains (and raise there if the file lacks them).
    """
    from ..detector import load_setup

    setup = setup if setup is not None else load_setup(run)
    names = tuple(setup.planes)
    layout = CaloLayout.from_planes([(n, *setup.plane_shape(n)) for n in names])
    base = load_calibration(run, path=time_path, layout=layout)
    cells = np.arange(layout.n_cells)
    plane = np.searchsorted(layout.begin, cells, side="right") - 1
    ny = np.array([p[2] for p in layout.planes])[plane]
    local = cells - layout.begin[plane]
    det = np.asarray(setup.cell_index(plane, local // ny, local % ny))
    cal = setup.calibration
    ok = det >= 0
    safe = np.where(ok, det, 0)
    gain = np.where(ok, np.asarray(cal.mev_per_adc)[safe], np.nan)
    known = ok & np.isfinite(gain) & (gain > 0)
    mev = np.where(known, gain, base.mev_per_adc)
    led_run = np.where(known, np.asarray(cal.led_run_average)[safe], base.led_run)
    spills = np.asarray(cal.led_spills, dtype=np.int64)
    table = np.where(known[None, :], np.asarray(cal.led_factors)[:, safe], np.nan) if spills.size else np.zeros((0, cells.size))
    return CaloCalibration(layout, mev, base.time_mean_ns, base.time_sigma_ns, led_run, spills, table)


def cell_energy(amp: np.ndarray, event: np.ndarray, cell: np.ndarray, spill_row: np.ndarray,
                 calibration: CaloCalibration) -> np.ndarray:
    """MeV of amplitudes (ADC) in (event, cell), with the LED factor of the event's spill."""
    led = np.full(event.size, np.nan)
    spilled = spill_row[event] >= 0
    if spilled.any():
        led[spilled] = calibration.led_table[spill_row[event[spilled]], cell[spilled]]
    led = np.where(np.isfinite(led), led, calibration.led_run[cell])
    with np.errstate(invalid="ignore"):
        return amp * calibration.mev_per_adc[cell] * led
