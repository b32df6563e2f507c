"""Configurable cut flow for the invisible-mode search, with a cut-flow table.

Cut file, one cut per line, applied in order::

    # kind  name        condition [and condition ...]
    cut     timing      e_bad < 2.0
    cut     max_cell    ecal_max_x == 3 and ecal_max_y == 3
    box     e_ecal      e_ecal < 50
    cut     range_demo  0.5 <= e_prs < 80

``box`` cuts are also cuts; together they define ``in_signal_box``. A condition is
``VARIABLE OP NUMBER`` or ``NUMBER OP VARIABLE OP NUMBER`` with OP in < <= > >= == !=;
variables are event columns (GeV, mm). A NaN never passes. Errors name file and line.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..columns import Columns

__all__ = ["Cut", "CutFlow", "CutFlowError", "CutFlowResult", "DEFAULT_CUTS"]

DEFAULT_CUTS = Path(__file__).resolve().parent.parent / "data" / "cuts" / "invisible.txt"

_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN = re.compile(r"\s*(<=|>=|==|!=|<|>|[^\s<>=!]+)")


class CutFlowError(ValueError):
    """A cut file or a cut evaluation problem, naming file and line."""


@dataclass(frozen=True)
class Condition:
    variable: str
    op: str
    value: float

    def evaluate(self, column: np.ndarray) -> np.ndarray:
        return np.asarray(_OPS[self.op](column, self.value), dtype=bool)

    def __str__(self) -> str:
        return f"{self.variable} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Cut:
    name: str
    conditions: tuple[Condition, ...]
    in_box: bool
    source: str  # "file:line"

    def __str__(self) -> str:
        return " and ".join(str(c) for c in self.conditions)


def _number(tok: str, where: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise CutFlowError(f"{where}: {tok!r} is not a number") from None
    if np.isnan(v):
        raise CutFlowError(f"{where}: NaN is not a usable threshold")
    return v


def _parse_condition(text: str, where: str) -> list[Condition]:
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise CutFlowError(f"{where}: cannot read condition {text.strip()!r}")
    if len(tokens) == 3 and tokens[1] in _OPS:
        if not _NAME.match(tokens[0]):
            raise CutFlowError(f"{where}: {tokens[0]!r} is not a variable name in {text.strip()!r}")
        return [Condition(tokens[0], tokens[1], _number(tokens[2], where))]
    if len(tokens) == 5 and tokens[1] in _OPS and tokens[3] in _OPS:
        if not _NAME.match(tokens[2]):
            raise CutFlowError(f"{where}: {tokens[2]!r} is not a variable name in {text.strip()!r}")
        low = _number(tokens[0], where)
        return [Condition(tokens[2], _FLIP[tokens[1]], low), Condition(tokens[2], tokens[3], _number(tokens[4], where))]
    raise CutFlowError(
        f"{where}: expected 'VARIABLE OP NUMBER' or 'NUMBER OP VARIABLE OP NUMBER', got {text.strip()!r}"
    )


@dataclass(frozen=True)
class CutFlowResult:
    events: Columns  # selected, in_signal_box, first_failed (-1 = none), pass_<cut> per cut
    table: Columns  # per cut: cut, passed, efficiency (w.r.t. previous), cumulative efficiency

    def format_table(self) -> str:
        t = self.table
        width = max([len("cut")] + [len(str(n)) for n in t.cut])
        lines = [f"{'cut':<{width}}  {'events':>10}  {'eff':>8}  {'cumulative':>10}"]
        for name, n, eff, cum in zip(t.cut, t.passed, t.efficiency, t.cumulative):
            lines.append(f"{name:<{width}}  {n:>10d}  {eff:>8.4f}  {cum:>10.3e}")
        return "\n".join(lines)


class CutFlow:
    """Ordered cuts; ``apply(events)`` evaluates them vectorised over a batch."""

    def __init__(self, cuts: list[Cut]):
        names = [c.name for c in cuts]
        for c in cuts:
            if names.count(c.name) > 1:
                raise CutFlowError(f"{c.source}: cut name {c.name!r} used more than once")
        self.cuts = tuple(cuts)

    @classmethod
    def from_text(cls, text: str, source: str = "<cuts>") -> "CutFlow":
        cuts: list[Cut] = []
        seen: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            body = line.split("#", 1)[0].strip()
            if not body:
                continue
            where = f"{source}:{number}"
            parts = body.split(None, 2)
            if len(parts) < 3:
                raise CutFlowError(f"{where}: expected 'cut|box NAME CONDITION', got {body!r}")
            kind, name, rest = parts
            if kind not in ("cut", "box"):
                raise CutFlowError(f"{where}: kind {kind!r}, expected 'cut' or 'box'")
            if not _NAME.match(name):
                raise CutFlowError(f"{where}: cut name {name!r} must be an identifier")
            if name in seen:
                raise CutFlowError(f"{where}: cut {name!r} already defined at {seen[name]}")
            seen[name] = where
            conds: list[Condition] = []
            for piece in re.split(r"\band\b", rest):
                conds.extend(_parse_condition(piece, where))
            cuts.append(Cut(name, tuple(conds), kind == "box", where))
        if not cuts:
            raise CutFlowError(f"{source}: no cuts defined")
        return cls(cuts)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "CutFlow":
        """The cut flow of a file (default: the invisible-mode cuts shipped with the package)."""
        path = Path(path) if path is not None else DEFAULT_CUTS
        try:
            text = path.read_text()
        except OSError as exc:
            raise CutFlowError(f"{path}: cannot read: {exc.strerror}") from None
        return cls.from_text(text, str(path))

    @property
    def variables(self) -> list[str]:
        return sorted({c.variable for cut in self.cuts for c in cut.conditions})

    def apply(self, events: Mapping[str, np.ndarray]) -> CutFlowResult:
        n = None
        passes: dict[str, np.ndarray] = {}
        for cut in self.cuts:
            ok: np.ndarray | None = None
            for cond in cut.conditions:
                if cond.variable not in events:
                    raise CutFlowError(
                        f"{cut.source}: cut {cut.name!r} needs column {cond.variable!r}, "
                        f"which the events do not have (columns: {', '.join(events)})"
                    )
                col = np.asarray(events[cond.variable])
                if col.ndim != 1:
                    raise CutFlowError(f"{cut.source}: column {cond.variable!r} has shape {col.shape}, expected 1-d")
                r = cond.evaluate(col)
                ok = r if ok is None else ok & r
            assert ok is not None
            n = ok.shape[0]
            passes[cut.name] = ok
        assert n is not None
        cumulative = np.ones(n, dtype=bool)
        first_failed = np.full(n, -1, dtype=np.int16)
        counts = []
        box = np.ones(n, dtype=bool)
        for i, cut in enumerate(self.cuts):
            ok = passes[cut.name]
            first_failed[cumulative & ~ok] = i
            cumulative &= ok
            counts.append(int(np.count_nonzero(cumulative)))
            if cut.in_box:
                box &= ok
        counts_arr = np.array(counts, dtype=np.int64)
        before = np.r_[n, counts_arr[:-1]]
        with np.errstate(invalid="ignore", divide="ignore"):
            eff = np.where(before > 0, counts_arr / np.maximum(before, 1), np.nan)
            cum = counts_arr / n if n else np.full(len(counts), np.nan)
        names = np.array(["all"] + [c.name for c in self.cuts])
        table = Columns(
            cut=names,
            passed=np.r_[n, counts_arr],
            efficiency=np.r_[1.0, eff],
            cumulative=np.r_[1.0 if n else np.nan, cum],
        )
        cols = {"selected": cumulative, "in_signal_box": box, "first_failed": first_failed}
        cols.update({f"pass_{k}": v for k, v in passes.items()})
        return CutFlowResult(Columns(cols), table)

    def __repr__(self) -> str:
        return "CutFlow(" + "; ".join(f"{c.name}: {c}" for c in self.cuts) + ")"
