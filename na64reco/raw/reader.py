"""Reading DATE raw files into columnar batches (the compiled decoder's Python face).

The decoding itself runs in C++ (``na64reco._core.raw``) with the GIL released; this module
only wraps its numpy columns into :class:`na64reco.Columns` tables. Conventions (error
codes, padding, resynchronisation) are documented in ``docs/raw-decoding.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._core import raw as _raw
from ..columns import Columns

__all__ = ["RawBatch", "RawFile", "open_raw", "decode_bytes", "ERROR_NAMES", "F1_BIN_NS"]

#: Stable error code -> name table of the decoder.
ERROR_NAMES: dict[int, str] = dict(_raw.ERROR_NAMES)
#: Width of one F1 TDC bin in ns (project convention, docs/data-model.md).
F1_BIN_NS: float = float(_raw.F1_BIN_NS)
ERROR_CODES: dict[str, int] = {name: code for code, name in ERROR_NAMES.items()}

_DEFAULT_BATCH = 10000


class RawBatch:
    """Decoded events of one batch: ``events``, ``sadc``, ``tdc`` and ``errors`` tables.

    The ``event`` column of ``sadc``, ``tdc`` and ``errors`` is a row number into
    ``events`` (-1 in ``errors`` when no event can be named).
    """

    __slots__ = ("events", "sadc", "tdc", "errors")

    def __init__(self, events: Columns, sadc: Columns, tdc: Columns, errors: Columns) -> None:
        self.events = events
        self.sadc = sadc
        self.tdc = tdc
        self.errors = errors

    @classmethod
    def _from_core(cls, tables: dict[str, dict[str, np.ndarray]]) -> "RawBatch":
        return cls(*(Columns(tables[name]) for name in ("events", "sadc", "tdc", "errors")))

    def error_counts(self) -> dict[str, int]:
        """Number of errors per error name (only names that occur)."""
        codes, counts = np.unique(self.errors["code"], return_counts=True)
        return {ERROR_NAMES.get(int(c), f"code_{int(c)}"): int(n) for c, n in zip(codes, counts)}

    @staticmethod
    def concatenate(parts: list["RawBatch"]) -> "RawBatch":
        """One batch from consecutive batches: event row numbers are shifted, sample rows
        are zero padded to the widest batch."""
        if not parts:
            raise ValueError("concatenate needs at least one RawBatch, got none")
        shifts = np.cumsum([0] + [p.events.nrows for p in parts[:-1]])
        width = max(p.sadc["samples"].shape[1] for p in parts)

        def shifted(table: str) -> list[Columns]:
            out = []
            for part, shift in zip(parts, shifts):
                t: Columns = getattr(part, table)
                event = t["event"]
                new = {"event": np.where(event >= 0, event + shift, event)}
                if table == "sadc":
                    s = t["samples"]
                    new["samples"] = np.pad(s, ((0, 0), (0, width - s.shape[1])))
                out.append(t.with_columns(**new))
            return out

        return RawBatch(
            Columns.concatenate([p.events for p in parts]),
            Columns.concatenate(shifted("sadc")),
            Columns.concatenate(shifted("tdc")),
            Columns.concatenate(shifted("errors")),
        )

    def __repr__(self) -> str:
        return (
            f"RawBatch({self.events.nrows} events, {self.sadc.nrows} sadc, "
            f"{self.tdc.nrows} tdc, {self.errors.nrows} errors)"
        )


class RawFile:
    """A DATE raw file, memory-mapped, decoded in batches of events.

    ``batches(n)`` always starts from the beginning of the file; ``next_batch(n)`` goes on
    from the current ``offset`` (the decoding state lives in C++).
    """

    def __init__(self, core: Any) -> None:
        self._handle: Any = core
        self._name = str(core.name)

    @property
    def _core(self) -> Any:
        if self._handle is None:
            raise ValueError(f"raw file {self._name!r} is closed")
        return self._handle

    def close(self) -> None:
        """Release the mapping now rather than at garbage collection; batches stay valid."""
        self._handle = None

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "RawFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        return self._name

    @property
    def size(self) -> int:
        """File size in bytes."""
        return int(self._core.size)

    @property
    def offset(self) -> int:
        """Byte offset where the next batch starts."""
        return int(self._core.offset)

    @property
    def done(self) -> bool:
        return bool(self._core.done)

    @property
    def events_decoded(self) -> int:
        """DATE events decoded so far (the next event's ``index``)."""
        return int(self._core.events_decoded)

    def rewind(self) -> None:
        self._core.rewind()

    def next_batch(self, max_events: int = _DEFAULT_BATCH) -> RawBatch:
        """Decode up to ``max_events`` events from the current offset."""
        return RawBatch._from_core(self._core.next_batch(int(max_events)))

    def batches(self, max_events: int = _DEFAULT_BATCH) -> Iterator[RawBatch]:
        """Iterate over the whole file in batches of up to ``max_events`` events."""
        if max_events <= 0:
            raise ValueError(f"max_events must be positive, got {max_events}")
        self.rewind()
        while not self.done:
            yield self.next_batch(max_events)

    def __iter__(self) -> Iterator[RawBatch]:
        return self.batches()

    def read_all(self) -> RawBatch:
        """The whole file as one batch."""
        self.rewind()
        return self.next_batch(2**62)

    def __repr__(self) -> str:
        if self.closed:
            return f"RawFile({self.name!r}, closed)"
        return f"RawFile({self.name!r}, {self.size} bytes, offset {self.offset})"


def open_raw(path: str | os.PathLike[str]) -> RawFile:
    """Open (memory-map) a DATE raw file for decoding."""
    return RawFile(_raw.RawFile(os.fspath(path)))


def decode_bytes(data: Any) -> RawBatch:
    """Decode a bytes-like object holding concatenated DATE events, all in one batch."""
    return RawFile(_raw.RawFile.from_buffer(data)).read_all()
