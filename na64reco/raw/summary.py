"""What is in a raw file (``summarize``) and one decoded event (``read_event``), with the
channel maps of ``na64reco.detector`` applied. The ``info`` and ``dump`` commands print these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..columns import Columns
from ..detector import ConfigError, Setup, load_setup
from ..detector.maps import address_key, split_address_key
from .layout import EVENT_TYPE_NAMES
from .reader import ERROR_NAMES, RawBatch, open_raw

__all__ = ["RawSummary", "EventRecord", "summarize", "read_event", "annotate_batch"]


def event_type_name(code: int) -> str:
    return EVENT_TYPE_NAMES.get(int(code), f"type_{int(code)}")


@dataclass
class RawSummary:
    """Counts over a whole file. Tables are ``Columns`` sorted by their first column."""

    path: str
    size: int
    n_events: int
    runs: np.ndarray  # distinct run numbers
    n_spills: int  # distinct (run, spill) pairs
    event_types: Columns  # type, name, count
    sources: Columns  # source_id, sadc_digits, tdc_hits, events_with_data, errors
    sadc_planes: Columns  # plane, name, digits (SADC planes of the setup; unmapped not here)
    straw_planes: Columns  # plane, name, hits
    unmapped: Columns  # kind ('sadc'/'tdc'), source_id, port, chip, channel, count
    errors: Columns  # code, name, count
    setup_problems: list[str] = field(default_factory=list)


@dataclass
class EventRecord:
    """One decoded event: its header row, annotated digits and hits, and errors."""

    index: int
    header: dict[str, int]
    sadc: Columns  # decoder columns + plane, x, y
    tdc: Columns  # decoder columns + plane, layer, tube
    errors: Columns  # decoder columns + name
    planes: tuple[str, ...]
    straw_planes: tuple[str, ...]
    setup_problem: str | None = None


def _setups(runs: np.ndarray, problems: list[str]) -> dict[int, Setup | None]:
    out: dict[int, Setup | None] = {}
    for run in np.unique(runs).tolist():
        try:
            out[run] = load_setup(int(run))
        except ConfigError as exc:
            out[run] = None
            msg = f"run {run}: {exc}"
            if msg not in problems:
                problems.append(msg)
    return out


def _annotate(table: Columns, runs_of_rows: np.ndarray, setups: dict[int, Setup | None], kind: str) -> Columns:
    """Annotate rows run by run (a file may span runs); -1 where no setup exists."""
    names = ("plane", "x", "y") if kind == "sadc" else ("plane", "layer", "tube")
    dtypes = (np.int16, np.int16, np.int16) if kind == "sadc" else (np.int16, np.int8, np.int16)
    cols = {n: np.full(table.nrows, -1, dtype=t) for n, t in zip(names, dtypes)}
    for run, setup in setups.items():
        if setup is None:
            continue
        in_run = runs_of_rows == run
        if in_run.all():  # the usual case: one run per file
            done = setup.annotate_sadc(table) if kind == "sadc" else setup.annotate_tdc(table)
            return table.with_columns(**{n: done[n] for n in names})
        rows = np.flatnonzero(in_run)
        if rows.size == 0:
            continue
        sub = table.take(rows)
        done = setup.annotate_sadc(sub) if kind == "sadc" else setup.annotate_tdc(sub)
        for n in names:
            cols[n][rows] = done[n]
    return table.with_columns(**cols)


def annotate_batch(batch: RawBatch, problems: list[str] | None = None) -> tuple[Columns, Columns, dict]:
    """(sadc with plane/x/y, tdc with plane/layer/tube, setups by run) for a decoded batch."""
    problems = [] if problems is None else problems
    run = batch.events["run"]
    setups = _setups(run, problems)
    sadc = _annotate(batch.sadc, run[batch.sadc["event"]], setups, "sadc")
    tdc = _annotate(batch.tdc, run[batch.tdc["event"]], setups, "tdc")
    return sadc, tdc, setups


def _count(keys: np.ndarray, minlength: int = 0) -> np.ndarray:
    return np.bincount(keys, minlength=minlength) if keys.size else np.zeros(minlength, dtype=np.int64)


def summarize(path: str | os.PathLike[str], *, batch_events: int = 20000) -> RawSummary:
    """Decode a whole raw file batch by batch and count what it holds."""
    raw = open_raw(path)
    problems: list[str] = []
    type_counts = np.zeros(1 << 16, dtype=np.int64)
    src_sadc = np.zeros(1024, dtype=np.int64)
    src_tdc = np.zeros(1024, dtype=np.int64)
    src_events = np.zeros(1024, dtype=np.int64)
    src_errors = np.zeros(1024, dtype=np.int64)
    error_counts: dict[int, int] = {}
    plane_digits: np.ndarray | None = None
    straw_hits: np.ndarray | None = None
    plane_names: tuple[str, ...] = ()
    straw_names: tuple[str, ...] = ()
    unmapped: dict[tuple[str, int, int, int, int], int] = {}
    runs: set[int] = set()
    spills: set[tuple[int, int]] = set()
    n_events = 0
    for batch in raw.batches(batch_events):
        ev = batch.events
        n_events += ev.nrows
        type_counts += _count(ev["type"].astype(np.int64), 1 << 16)
        runs.update(np.unique(ev["run"]).tolist())
        pairs = np.unique(ev["run"].astype(np.int64) << 32 | ev["spill"].astype(np.int64))
        spills.update(pairs.tolist())
        s_src = batch.sadc["source_id"].astype(np.int64)
        t_src = batch.tdc["source_id"].astype(np.int64)
        src_sadc += _count(s_src, 1024)
        src_tdc += _count(t_src, 1024)
        pairs = np.unique(np.concatenate([batch.sadc["event"] * 1024 + s_src, batch.tdc["event"] * 1024 + t_src]))
        src_events += _count(pairs % 1024, 1024)
        err_src = batch.errors["source_id"]
        src_errors += _count(err_src[err_src >= 0].astype(np.int64), 1024)
        for code, n in zip(*np.unique(batch.errors["code"], return_counts=True)):
            error_counts[int(code)] = error_counts.get(int(code), 0) + int(n)

        sadc, tdc, setups = annotate_batch(batch, problems)
        for setup in setups.values():
            if setup is not None and not plane_names:
                plane_names, straw_names = setup.planes, setup.straw_planes
        if plane_names:
            digits = _count(sadc["plane"][sadc["plane"] >= 0].astype(np.int64), len(plane_names))
            hits = _count(tdc["plane"][tdc["plane"] >= 0].astype(np.int64), len(straw_names))
            plane_digits = digits if plane_digits is None else plane_digits + digits
            straw_hits = hits if straw_hits is None else straw_hits + hits
        for kind, table in (("sadc", sadc), ("tdc", tdc)):
            miss = table["plane"] < 0
            if miss.any():
                keys = address_key(*(table[c][miss] for c in ("source_id", "port", "chip", "channel")))
                uniq, cnt = np.unique(keys, return_counts=True)
                for a, c in zip(zip(*(f.tolist() for f in split_address_key(uniq))), cnt.tolist()):
                    key = (kind, *a)
                    unmapped[key] = unmapped.get(key, 0) + c

    used_types = np.flatnonzero(type_counts)
    used_src = np.flatnonzero(src_sadc + src_tdc + src_errors)
    keys = sorted(unmapped)
    codes = sorted(error_counts)
    return RawSummary(
        path=os.fspath(path), size=raw.size, n_events=n_events, runs=np.asarray(sorted(runs), dtype=np.int64),
        n_spills=len(spills),
        event_types=Columns(type=used_types, name=np.asarray([event_type_name(t) for t in used_types], dtype=str),
                            count=type_counts[used_types]),
        sources=Columns(source_id=used_src, sadc_digits=src_sadc[used_src], tdc_hits=src_tdc[used_src],
                        events_with_data=src_events[used_src], errors=src_errors[used_src]),
        sadc_planes=Columns(plane=np.arange(len(plane_names)), name=np.asarray(plane_names, dtype=str),
                            digits=plane_digits if plane_digits is not None else np.zeros(len(plane_names), np.int64)),
        straw_planes=Columns(plane=np.arange(len(straw_names)), name=np.asarray(straw_names, dtype=str),
                             hits=straw_hits if straw_hits is not None else np.zeros(len(straw_names), np.int64)),
        unmapped=Columns(kind=np.asarray([k[0] for k in keys], dtype=str),
                         source_id=np.asarray([k[1] for k in keys], dtype=np.int64),
                         port=np.asarray([k[2] for k in keys], dtype=np.int64),
                         chip=np.asarray([k[3] for k in keys], dtype=np.int64),
                         channel=np.asarray([k[4] for k in keys], dtype=np.int64),
                         count=np.asarray([unmapped[k] for k in keys], dtype=np.int64)),
        errors=Columns(code=np.asarray(codes, dtype=np.int64),
                       name=np.asarray([ERROR_NAMES.get(c, f"code_{c}") for c in codes], dtype=str),
                       count=np.asarray([error_counts[c] for c in codes], dtype=np.int64)),
        setup_problems=problems,
    )


def read_event(path: str | os.PathLike[str], index: int, *, batch_events: int = 5000) -> EventRecord:
    """Decode event number ``index`` (0-based position in the file) with its digits annotated."""
    if index < 0:
        raise ValueError(f"event index must be >= 0, got {index}")
    raw = open_raw(path)
    seen = 0
    for batch in raw.batches(batch_events):
        rows = np.flatnonzero(batch.events["index"] == index)
        seen += batch.events.nrows
        if rows.size == 0:
            continue
        row = int(rows[0])
        problems: list[str] = []
        one = RawBatch(batch.events.take(slice(row, row + 1)),
                       batch.sadc.take(batch.sadc["event"] == row),
                       batch.tdc.take(batch.tdc["event"] == row),
                       batch.errors.take(batch.errors["event"] == row))
        for t in ("sadc", "tdc", "errors"):
            table = getattr(one, t)
            setattr(one, t, table.with_columns(event=np.zeros(table.nrows, dtype=table["event"].dtype)))
        sadc, tdc, setups = annotate_batch(one, problems)
        setup = next((s for s in setups.values() if s is not None), None)
        errors = one.errors.with_columns(
            name=np.asarray([ERROR_NAMES.get(int(c), f"code_{int(c)}") for c in one.errors["code"]], dtype=str))
        return EventRecord(
            index=index, header={k: int(v[0]) for k, v in one.events.items()}, sadc=sadc, tdc=tdc, errors=errors,
            planes=setup.planes if setup else (), straw_planes=setup.straw_planes if setup else (),
            setup_problem=problems[0] if problems else None)
    raise ValueError(f"event {index} not in {os.fspath(path)}: it holds {seen} events (0..{seen - 1})")
