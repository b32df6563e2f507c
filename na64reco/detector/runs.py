"""Run ranges of configuration files, and choosing the one file that applies to a run.

Text files declare their range on a line ``runs FIRST LAST`` (``LAST`` may be ``*`` for
open-ended) before any data line; TOML files with keys ``first_run`` and ``last_run``
(omit ``last_run`` for open-ended). Within one kind (maps, geometry, gains, LED), ranges
must not overlap, so exactly one file can apply to a run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

__all__ = ["RunRange", "parse_runs_line", "read_text_range", "read_toml_range", "select_file", "check_overlaps", "OPEN_END"]

OPEN_END = 2**32 - 1


@dataclass(frozen=True)
class RunRange:
    first: int
    last: int
    path: Path
    line: int | None = None

    def contains(self, run: int) -> bool:
        return self.first <= run <= self.last

    def __str__(self) -> str:
        last = "*" if self.last == OPEN_END else str(self.last)
        return f"{self.first}-{last}"

    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)


def _run_number(token: str, path: Path, line: int, *, allow_open: bool) -> int:
    if allow_open and token == "*":
        return OPEN_END
    try:
        value = int(token, 10)
    except ValueError:
        raise ConfigError(f"run number {token!r} is not an integer", path, line) from None
    if not 0 <= value < OPEN_END:
        raise ConfigError(f"run number {value} out of range 0..{OPEN_END - 1}", path, line)
    return value


def parse_runs_line(fields: list[str], path: Path, line: int) -> RunRange:
    if len(fields) != 3:
        raise ConfigError(f"expected 'runs FIRST LAST', got {' '.join(fields)!r}", path, line)
    first = _run_number(fields[1], path, line, allow_open=False)
    last = _run_number(fields[2], path, line, allow_open=True)
    if last < first:
        raise ConfigError(f"run range {first}-{last} is empty (LAST < FIRST)", path, line)
    return RunRange(first, last, path, line)


def read_text_range(path: Path) -> RunRange:
    """The ``runs`` line of a text configuration file (it must come before any data)."""
    with open(path, encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            fields = text.split("#", 1)[0].split()
            if not fields:
                continue
            if fields[0] == "runs":
                return parse_runs_line(fields, path, number)
            raise ConfigError("data before the 'runs FIRST LAST' line", path, number)
    raise ConfigError("no 'runs FIRST LAST' line", path)


def read_toml_range(path: Path, doc: dict | None = None) -> RunRange:
    if doc is None:
        doc = load_toml(path)
    if "first_run" not in doc:
        raise ConfigError("missing key 'first_run'", path)
    first, last = doc["first_run"], doc.get("last_run", OPEN_END)
    for key, value in (("first_run", first), ("last_run", last)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= OPEN_END:
            raise ConfigError(f"{key} = {value!r}: expected a run number", path)
    if last < first:
        raise ConfigError(f"run range {first}-{last} is empty (last_run < first_run)", path)
    return RunRange(first, last, path)


def load_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None


def check_overlaps(kind: str, ranges: Iterable[RunRange]) -> list[RunRange]:
    """The ranges sorted by first run; an error naming both files if two overlap."""
    ordered = sorted(ranges, key=lambda r: (r.first, r.last))
    for a, b in zip(ordered, ordered[1:]):
        if b.first <= a.last:
            raise ConfigError(
                f"{kind} run ranges overlap: {a} ({a.where()}) and {b} ({b.where()})", b.path, b.line
            )
    return ordered


def select_file(kind: str, run: int, ranges: Iterable[RunRange]) -> RunRange:
    """The one range containing ``run``; overlapping ranges or none at all are errors."""
    ordered = check_overlaps(kind, ranges)
    for r in ordered:
        if r.contains(run):
            return r
    have = ", ".join(f"{r} ({r.path.name})" for r in ordered) or "no files at all"
    raise ConfigError(f"no {kind} file covers run {run}; available: {have}")


def read_data_lines(path: Path, n_fields: int, layout: str) -> tuple[RunRange, list[tuple[int, list[str]]]]:
    """The run range and the data lines ``(line number, fields)`` of a run-range text file.

    The single ``runs FIRST LAST`` line must come before any data; every data line must have
    ``n_fields`` fields (``layout`` names them in the error). Comments start with ``#``.
    """
    runs: RunRange | None = None
    rows: list[tuple[int, list[str]]] = []
    with open(path, encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            fields = text.split("#", 1)[0].split()
            if not fields:
                continue
            if fields[0] == "runs":
                if runs is not None:
                    raise ConfigError(f"second 'runs' line (first on line {runs.line})", path, number)
                runs = parse_runs_line(fields, path, number)
                continue
            if runs is None:
                raise ConfigError("data before the 'runs FIRST LAST' line", path, number)
            if len(fields) != n_fields:
                raise ConfigError(f"expected {n_fields} fields {layout}, got {len(fields)}: {text.strip()!r}",
                                  path, number)
            rows.append((number, fields))
    if runs is None:
        raise ConfigError("no 'runs FIRST LAST' line", path)
    return runs, rows
