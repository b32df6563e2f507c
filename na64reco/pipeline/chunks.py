"""The work unit of a job: a byte range of whole DATE events in one input file.

``plan_chunks`` walks the DATE headers (word 0 = event size) without decoding payloads and
cuts each file into ranges of ``events_per_chunk`` events. A chunk depends only on the file
and that number, never on how many processes or workers run the job, so every executor
does identical work; the chunk's ``index`` is its place in the input order, in which the
results are merged.

If the walk meets bytes that cannot start an event (size 0, not a multiple of 4, past the
end of the file, wrong magic), it stops there and the rest of the file joins the last
chunk: the decoder then reports the problem as named errors tied to that offset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._core.raw import walk_events_fd
from ..columns import Columns

__all__ = [
    "Chunk",
    "FileScan",
    "DATE_MAGIC",
    "DATE_HEADER_BYTES",
    "EVENT_TYPE_NAMES",
    "scan_file",
    "plan_chunks",
    "read_headers",
]

from ..raw.layout import DATE_HEADER_WORDS, DATE_MAGIC, EVENT_TYPE_NAMES

DATE_HEADER_BYTES = 4 * DATE_HEADER_WORDS
PHYSICS_EVENT = 7


def event_type_name(code: int) -> str:
    return EVENT_TYPE_NAMES.get(int(code), f"type_{int(code)}")


@dataclass(frozen=True)
class Chunk:
    """Whole DATE events ``[start, stop)`` (bytes) of input file ``file_index``.

    ``first_event`` is the sequence number of the first DATE event of the range in its file
    (so decoded event indices are the same whatever the chunking); ``nevents`` counts the
    events the header walk found in it (a trailing unreadable tail is not counted).
    """

    index: int
    file_index: int
    path: str
    start: int
    stop: int
    first_event: int
    nevents: int

    @property
    def nbytes(self) -> int:
        return self.stop - self.start

    def read(self, into: bytearray | None = None) -> bytes | memoryview:
        """The chunk's bytes; with ``into``, read into that buffer (grown if too small) and
        returned as a view of its first ``nbytes`` bytes, valid until the buffer is reused."""
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            if into is None:
                data: bytes | memoryview = fh.read(self.nbytes)
                got = len(data)
            else:
                if len(into) < self.nbytes:
                    try:
                        into.extend(bytes(self.nbytes - len(into)))
                    except BufferError:  # a view of it is still alive somewhere: a fresh one
                        into = bytearray(self.nbytes)
                data = memoryview(into)[: self.nbytes]
                got = fh.readinto(data)
        if got != self.nbytes:
            raise OSError(
                f"{self.path}: expected {self.nbytes} bytes at offset {self.start}, read {got}"
                " (file changed since the job was planned?)"
            )
        return data


@dataclass(frozen=True)
class FileScan:
    """Where the events of one file start, and why the walk stopped early (if it did)."""

    path: str
    size: int
    offsets: np.ndarray  # uint64, start of each whole event
    sizes: np.ndarray  # uint32
    stop_offset: int  # first byte not covered by a whole event (== size when clean)
    problem: str  # "" when the whole file is whole events

    @property
    def nevents(self) -> int:
        return int(self.offsets.size)


def scan_file(path: str | os.PathLike[str]) -> FileScan:
    """Walk the DATE event sizes of a file (no payload decoding; a compiled pass over the headers)."""
    p = Path(path)
    with open(p, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return FileScan(str(p), 0, np.zeros(0, np.uint64), np.zeros(0, np.uint32), 0, "empty file")
        try:
            offsets, sizes, pos, stop, value = walk_events_fd(fh.fileno(), size)
        except ValueError as exc:  # a failed read: the file is unreadable, as for open()
            raise OSError(f"{p}: {exc}") from exc
    return FileScan(str(p), size, offsets, sizes, pos, _walk_problem(stop, value, pos, size))


def _walk_problem(stop: int, value: int, pos: int, size: int) -> str:
    """Why the walk of a file stopped before its end ("" when it did not)."""
    if stop == 0:
        return ""
    if stop == 1:
        return f"truncated event header at offset {pos} ({size - pos} bytes left, need {DATE_HEADER_BYTES})"
    if stop == 2:
        return f"bad DATE magic 0x{value:08X} at offset {pos} (expected 0x{DATE_MAGIC:08X})"
    if stop == 3:
        return f"bad DATE event size {value} at offset {pos} (need a multiple of 4, >= {DATE_HEADER_BYTES})"
    return f"truncated event at offset {pos}: size {value}, only {size - pos} bytes left"


def plan_chunks(scans: list[FileScan], events_per_chunk: int) -> list[Chunk]:
    """Cut scanned files into chunks of at most ``events_per_chunk`` whole events, in input order."""
    if events_per_chunk < 1:
        raise ValueError(f"events_per_chunk must be >= 1, got {events_per_chunk}")
    chunks: list[Chunk] = []
    for file_index, scan in enumerate(scans):
        n = scan.nevents
        starts = list(range(0, n, events_per_chunk)) or [0]
        for k, first in enumerate(starts):
            last = min(first + events_per_chunk, n)
            begin = int(scan.offsets[first]) if n else 0
            is_last = k == len(starts) - 1
            # The unreadable tail (if any) rides with the last chunk so the decoder names it.
            end = scan.size if is_last else int(scan.offsets[last])
            if end <= begin and n == 0 and scan.size == 0:
                continue
            chunks.append(
                Chunk(
                    index=len(chunks),
                    file_index=file_index,
                    path=scan.path,
                    start=begin,
                    stop=end,
                    first_event=first,
                    nevents=last - first,
                )
            )
    return chunks


def read_headers(data: bytes | np.ndarray, base_offset: int = 0, first_event: int = 0) -> tuple[Columns, int]:
    """The ``events`` table (data-model columns) of the whole DATE events in ``data``.

    Payloads are not decoded (``nerrors`` is 0). Returns the table and the number of bytes
    covered by whole events; bytes after that could not be walked.
    """
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.view(np.uint8)
    size = buf.size
    words = buf[: size - size % 4].view("<u4")
    offsets: list[int] = []
    pos = 0
    while pos + DATE_HEADER_BYTES <= size:
        w = pos // 4
        ev_size = int(words[w])
        if int(words[w + 1]) != DATE_MAGIC or ev_size < DATE_HEADER_BYTES or ev_size % 4 or pos + ev_size > size:
            break
        offsets.append(pos)
        pos += ev_size
    off = np.asarray(offsets, dtype=np.int64)
    head = words[(off // 4)[:, None] + np.arange(17)[None, :]] if off.size else np.zeros((0, 17), np.uint32)
    id1 = head[:, 7]
    tp0 = head[:, 8].astype(np.uint64)
    tp1 = head[:, 9].astype(np.uint64)
    events = Columns(
        index=np.arange(first_event, first_event + off.size, dtype=np.int64),
        offset=(off + base_offset).astype(np.uint64),
        size=head[:, 0].astype(np.uint32),
        run=head[:, 5].astype(np.uint32),
        spill=((id1 >> 20) & 0xFFF).astype(np.uint32),
        event_in_run=head[:, 6].astype(np.uint32),
        event_in_spill=(id1 & 0xFFFFF).astype(np.uint32),
        type=(head[:, 4] & 0xFFFF).astype(np.uint16),
        trigger_mask=((tp0 >> np.uint64(1)) + (tp1 << np.uint64(31))).astype(np.uint64),
        time=head[:, 16].astype(np.uint32),
        nerrors=np.zeros(off.size, np.uint32),
    )
    return events, pos
