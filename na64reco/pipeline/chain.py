"""The per-batch chain: decoded raw batch in, ``RecoBatch`` (the output's columns) out.

decode -> waveform fits -> calibration -> calorimeter clusters and event variables ->
straw points and segments -> trigger emulation -> selection.

Each step is a ``Stage`` (one module ``stage_*.py`` each, composed in ``stages.py``) that reads and fills a shared ``EventState``. A
stage whose library piece is not in this build reports itself unavailable: its columns keep
their neutral values (NaN, -1) and the events carry the ``STAGE_MISSING`` status bit, so a
partial build still runs end to end and says what it could not do.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..columns import Columns
from ..config import JobConfig
from . import status as st
from .batch import EVENT_COLUMNS, JAGGED_COLUMNS, RecoBatch, empty_jagged
from .chunks import PHYSICS_EVENT, event_type_name

__all__ = ["EventState", "Stage", "Reconstruction", "reconstruct", "StageTimer"]


class RawBatchLike(Protocol):
    events: Columns
    sadc: Columns
    tdc: Columns
    errors: Columns


@dataclass
class EventState:
    """Working columns of one batch: physics events only, in input order."""

    raw: Any  # the decoded batch restricted to physics events (RawBatchLike)
    columns: dict[str, np.ndarray]
    jagged: dict[str, Columns]
    cuts: dict[str, np.ndarray] = field(default_factory=dict)  # ordered cut name -> pass mask
    extras: dict[str, Any] = field(default_factory=dict)  # hand-over between stages

    @property
    def n(self) -> int:
        return int(self.columns["run"].shape[0])

    def flag(self, bit: int, mask: np.ndarray | bool = True) -> None:
        self.columns["status"] |= np.where(mask, np.uint32(bit), np.uint32(0)).astype(np.uint32)


class Stage(Protocol):
    name: str

    def available(self) -> bool: ...

    def __call__(self, state: EventState) -> None: ...


class StageTimer:
    """Wall-clock seconds per stage, summed over batches (for the benchmark breakdown)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds

    def merge(self, other: "StageTimer | dict[str, float]") -> None:
        self.seconds.update(other.seconds if isinstance(other, StageTimer) else other)


def _initial_columns(ev: Columns) -> dict[str, np.ndarray]:
    n = ev.nrows
    cols: dict[str, np.ndarray] = {}
    for name, dt in EVENT_COLUMNS.items():
        dtype = np.dtype(dt)
        if dtype.kind == "f":
            cols[name] = np.full(n, np.nan, dtype)
        elif name in ("cut_failed", "ecal_max_x", "ecal_max_y"):
            cols[name] = np.full(n, -1, dtype)
        else:
            cols[name] = np.zeros(n, dtype)
    cols["run"][:] = ev["run"]
    cols["spill"][:] = ev["spill"]
    # ``event`` is the event number in the run (DATE event_id[0]), as in the simulation truth.
    cols["event"][:] = ev["event_in_run"]
    cols["event_in_spill"][:] = ev["event_in_spill"]
    cols["event_index"][:] = ev["index"]
    cols["trigger_bits"][:] = ev["trigger_mask"]
    cols["time"][:] = ev["time"]
    cols["n_errors"][:] = ev["nerrors"]
    return cols


def _restrict(raw: Any, keep: np.ndarray) -> Any:
    """The raw batch with only the events in ``keep`` (bool mask); digit/error rows renumbered."""
    new_row = np.cumsum(keep) - 1
    out = {"events": raw.events if keep.all() else raw.events.take(keep)}
    for table in ("sadc", "tdc", "errors"):
        t = getattr(raw, table)
        ev = t["event"]
        if table == "errors":
            padded = np.append(keep, False)  # event -1 (no event named) maps to the pad
            sel = padded[np.where(ev >= 0, ev, keep.size)]
        else:
            sel = keep[ev]
        # Events without rows of this table (end-of-burst events carry no digits) cost no copy
        # of it, only the renumbering.
        sub = t if sel.all() else t.take(sel)
        out[table] = sub.with_columns(event=new_row[sub["event"]].astype(np.int64)) if sub.nrows else sub
    return _Raw(**out)


# Decoder errors that are reports, not faults: the event is still good.
REPORT_ONLY_ERRORS = ("module_missing",)


def _report_codes() -> np.ndarray:
    try:
        from ..raw import ERROR_CODES
    except ImportError:
        return np.zeros(0, np.uint16)
    return np.asarray([ERROR_CODES[n] for n in REPORT_ONLY_ERRORS if n in ERROR_CODES], np.uint16)


def error_name(code: int) -> str:
    """Stable name of a decoder error code (``na64reco.raw.ERROR_NAMES``)."""
    try:
        from ..raw import ERROR_NAMES
    except ImportError:
        return f"code_{code}"
    try:
        return str(ERROR_NAMES[code])
    except (KeyError, IndexError):
        return f"code_{code}"


@dataclass
class _Raw:
    events: Columns
    sadc: Columns
    tdc: Columns
    errors: Columns


@dataclass
class BatchOutcome:
    """A reconstructed batch with its accounting contributions."""

    reco: RecoBatch
    type_counts: Counter[str]
    error_outcomes: Counter[str]  # physics events with errors, by first error name
    errors_by_name: Counter[str]  # every error
    cut_outcomes: Counter[str]  # clean physics events by first failed cut ("selected" when none)
    cut_order: list[str]
    # the stages' hand-over (annotated digits, pulses, doubtful fits, the straw result, ...):
    # what studies of the reconstruction look at beyond the output's columns
    extras: dict[str, Any] = field(default_factory=dict)


class Reconstruction:
    """The chain, configured once per process and applied to batch after batch."""

    def __init__(self, config: JobConfig | None = None, stages: list[Stage] | None = None) -> None:
        from .stages import default_stages

        self.config = config or JobConfig()
        self.stages: list[Stage] = list(stages) if stages is not None else default_stages(self.config)
        self.timer = StageTimer()

    def stage_report(self) -> dict[str, bool]:
        """Which stages this build can run."""
        return {s.name: s.available() for s in self.stages}

    def __call__(self, raw: RawBatchLike) -> BatchOutcome:
        ev = raw.events
        types = ev["type"]
        physics = types == PHYSICS_EVENT
        type_counts: Counter[str] = Counter()
        for code, count in zip(*np.unique(types[~physics], return_counts=True)):
            type_counts[f"type:{event_type_name(code)}"] += int(count)

        errors_by_name: Counter[str] = Counter()
        err = raw.errors
        if err.nrows:
            for code, count in zip(*np.unique(err["code"], return_counts=True)):
                errors_by_name[error_name(int(code))] += int(count)

        state = EventState(_restrict(raw, physics), {}, {})
        state.columns = _initial_columns(state.raw.events)
        state.jagged = {name: empty_jagged(name) for name in JAGGED_COLUMNS}

        # First error of each physics event names its outcome (errors are in stream order);
        # reports that are not faults (a module that did not answer) do not make it bad.
        has_error = np.zeros(state.n, bool)
        error_outcomes: Counter[str] = Counter()
        perr = state.raw.errors
        if perr.nrows:
            fault = ~np.isin(perr["code"], _report_codes())
            evs = perr["event"][fault]
            codes = perr["code"][fault]
            first = np.unique(evs, return_index=True)[1]
            has_error[evs[first]] = True
            for code, count in zip(*np.unique(codes[first], return_counts=True)):
                error_outcomes[f"error:{error_name(int(code))}"] += int(count)
        state.flag(st.DECODE_ERROR, has_error)
        state.extras["has_error"] = has_error

        for stage in self.stages:
            t0 = time.perf_counter()
            if stage.available():
                stage(state)
            else:
                state.flag(st.STAGE_MISSING)
            self.timer.add(stage.name, time.perf_counter() - t0)

        # Cut flow over cleanly decoded events: the first failed cut is the outcome.
        cut_order = list(state.cuts)
        cut_failed = np.full(state.n, -1, np.int16)
        for k in reversed(range(len(cut_order))):
            cut_failed[~state.cuts[cut_order[k]]] = k
        state.columns["cut_failed"] = cut_failed
        clean = ~has_error
        cut_outcomes: Counter[str] = Counter()
        cf = cut_failed[clean]
        for k, name in enumerate(cut_order):
            c = int(np.count_nonzero(cf == k))
            if c:
                cut_outcomes[f"cut:{name}"] = c
        sel = int(np.count_nonzero(cf == -1))
        if sel:
            cut_outcomes["selected"] = sel

        # Exactly the declared columns and types, so every batch has the same schema.
        events = Columns({name: state.columns[name] for name in EVENT_COLUMNS})
        reco = RecoBatch(events, {name: _declared_types(name, table) for name, table in state.jagged.items()})
        return BatchOutcome(reco, type_counts, error_outcomes, errors_by_name, cut_outcomes, cut_order, state.extras)


def _declared_types(name: str, table: Columns) -> Columns:
    """A stage's jagged table with its columns in the types of ``JAGGED_COLUMNS`` (a copy
    only of the columns computed in another type)."""
    declared = JAGGED_COLUMNS[name]
    return Columns({k: (v if k not in declared else v.astype(declared[k], copy=False)) for k, v in table.items()})


def reconstruct(raw: RawBatchLike, config: JobConfig | None = None) -> RecoBatch:
    """Reconstruct one decoded batch; returns the same columns the output file holds.

    For repeated calls build a ``Reconstruction`` once (templates, maps and fitters are
    loaded in its constructor) and call it on each batch.
    """
    return Reconstruction(config)(raw).reco
