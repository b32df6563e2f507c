"""One chunk, start to finish: read its bytes, decode, reconstruct, count, histogram.

``process_chunk`` is a plain top-level function of picklable arguments, so a local process
pool and a Dask worker run exactly the same code on the same chunk. The per-process
``Reconstruction`` (templates, maps, fitters) is built once and reused across chunks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..columns import Columns
from ..config import JobConfig
from ..output.histograms import StandardHistograms
from .accounting import Accounting
from .batch import RecoBatch
from .chain import Reconstruction, _Raw
from .chunks import Chunk, read_headers

__all__ = ["ChunkResult", "process_chunk", "decode_chunk", "decoder_available"]


@dataclass
class ChunkResult:
    index: int
    reco: RecoBatch
    accounting: Accounting
    histograms: StandardHistograms
    timings: dict[str, float] = field(default_factory=dict)
    cpu_s: float = 0.0  # CPU time of the thread that processed the chunk

    def __reduce__(self) -> tuple[Any, ...]:
        # Columns is not picklable as such (attribute lookup recurses before its slots are
        # set), so results cross process boundaries as plain dicts of arrays.
        jagged = {name: t.to_dict() for name, t in self.reco.jagged.items()}
        return (
            _rebuild_result,
            (self.index, self.reco.events.to_dict(), jagged, self.accounting, self.histograms, self.timings, self.cpu_s),
        )


def _rebuild_result(
    index: int,
    events: dict[str, np.ndarray],
    jagged: dict[str, dict[str, np.ndarray]],
    accounting: Accounting,
    histograms: StandardHistograms,
    timings: dict[str, float],
    cpu_s: float,
) -> ChunkResult:
    reco = RecoBatch(Columns(events), {name: Columns(t) for name, t in jagged.items()})
    return ChunkResult(index, reco, accounting, histograms, timings, cpu_s)


def decoder_available() -> bool:
    try:
        from .. import raw  # noqa: F401
    except ImportError:
        return False
    return hasattr(raw, "decode_bytes")


def _empty(columns: dict[str, str]) -> Columns:
    return Columns({k: np.zeros(0, np.dtype(v)) for k, v in columns.items()})


def decode_chunk(data: bytes, chunk: Chunk) -> tuple[Any, int, bool]:
    """Decoded batch of the chunk's bytes, bytes that belong to no event, full decode?

    With the decoder in the build this is ``na64reco.raw.decode_bytes``, with event
    indices and byte offsets moved from chunk-relative to file-relative; without it only
    the DATE headers are read (no digits), and the caller flags the events.
    """
    if decoder_available():
        from ..raw import ERROR_CODES, decode_bytes

        batch = decode_bytes(data)
        ev = batch.events
        batch.events = ev.with_columns(
            index=ev["index"] + np.int64(chunk.first_event), offset=ev["offset"] + np.uint64(chunk.start)
        )
        err = batch.errors
        batch.errors = err.with_columns(offset=err["offset"] + np.uint64(chunk.start))
        lost_codes = [ERROR_CODES[name] for name in UNREADABLE_BYTE_ERRORS if name in ERROR_CODES]
        lost = int(err["value"][np.isin(err["code"], lost_codes)].sum()) if err.nrows else 0
        return batch, lost, True
    events, covered = read_headers(data, base_offset=chunk.start, first_event=chunk.first_event)
    raw = _Raw(
        events=events,
        sadc=_empty({"event": "i8", "source_id": "u2", "port": "u1", "chip": "u1", "channel": "u1", "nsamples": "u2", "sum": "u2"}),
        tdc=_empty({"event": "i8", "source_id": "u2", "port": "u1", "chip": "u1", "channel": "u1", "raw_time": "u2", "trigger_time": "u2", "time_bins": "i4", "time_ns": "f8"}),
        errors=_empty({"event": "i8", "offset": "u8", "source_id": "i4", "code": "u2", "value": "i8"}),
    )
    return raw, len(data) - covered, False


# Decoder errors whose value is a count of file bytes that lie in no decoded event.
UNREADABLE_BYTE_ERRORS = ("bytes_skipped", "truncated_header")


_RECO_CACHE: dict[str, Reconstruction] = {}


def _reconstruction(config: JobConfig) -> Reconstruction:
    key = config.digest()
    reco = _RECO_CACHE.get(key)
    if reco is None:
        _RECO_CACHE.clear()
        reco = _RECO_CACHE[key] = Reconstruction(config)
    return reco


# The bytes of the chunk being processed, one buffer per thread (a Dask worker runs chunks in
# several threads) reused from chunk to chunk: a fresh buffer per chunk (tens to hundreds of
# MB) spent more time faulting its pages in than reading. The decoded tables own their
# memory, so nothing refers to the buffer once a chunk is done.
_READ_BUFFERS = threading.local()


def _read_buffer() -> bytearray:
    buf = getattr(_READ_BUFFERS, "buffer", None)
    if buf is None:
        buf = _READ_BUFFERS.buffer = bytearray()
    return buf


def release_read_buffer() -> None:
    """Give this thread's reused chunk buffer back (the job runner calls it when it ends)."""
    _READ_BUFFERS.buffer = None


def process_chunk(chunk: Chunk, config: JobConfig) -> ChunkResult:
    """Reconstruct one chunk; the result depends only on the chunk's bytes and the config."""
    cpu0 = time.thread_time()
    t0 = time.perf_counter()
    data = chunk.read(into=_read_buffer())
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    raw, unreadable, full = decode_chunk(data, chunk)
    t_decode = time.perf_counter() - t0

    reco = _reconstruction(config)
    before = dict(reco.timer.seconds)
    outcome = reco(raw)
    after = reco.timer.seconds
    timings = {"read": t_read, "decode": t_decode}
    timings.update({k: after[k] - before.get(k, 0.0) for k in after})

    t0 = time.perf_counter()
    batch = outcome.reco
    batch.events["file_index"][:] = chunk.file_index
    if not full:
        from .status import STAGE_MISSING

        batch.events["status"][:] |= np.uint32(STAGE_MISSING)

    acc = Accounting()
    acc.events_read = raw.events.nrows
    acc.outcomes.update(outcome.type_counts)
    acc.outcomes.update(outcome.error_outcomes)
    acc.outcomes.update(outcome.cut_outcomes)
    acc.errors_by_name.update(outcome.errors_by_name)
    if unreadable and not full:
        acc.errors_by_name["unreadable_tail"] += 1
    acc.written = batch.nevents
    acc.bytes_read = len(data)
    acc.unreadable_bytes = unreadable
    acc.cut_order = outcome.cut_order
    acc.check()

    hists = fill_histograms(batch, acc)
    timings["histograms"] = time.perf_counter() - t0
    return ChunkResult(chunk.index, batch, acc, hists, timings, time.thread_time() - cpu0)


def fill_histograms(batch: RecoBatch, acc: Accounting) -> StandardHistograms:
    h = StandardHistograms()
    ev = batch.events
    h.fill("ecal_vs_hcal", ev["e_ecal"], ev["e_hcal"])
    h.fill("e_ecal", ev["e_ecal"])
    h.fill("e_hcal", ev["e_hcal"])
    h.fill("ecal_xy", ev["ecal_x"], ev["ecal_y"])
    if "pulses" in batch.jagged:
        h.fill("pulse_time", batch.jagged["pulses"]["time"])
    labels, counts = cutflow(acc)
    h.set_cutflow(labels, counts)
    return h


def cutflow(acc: Accounting) -> tuple[list[str], np.ndarray]:
    """Events remaining after each step: physics, decoded, then each cut in order."""
    n_err = sum(v for k, v in acc.outcomes.items() if k.startswith("error:"))
    remaining = acc.physics - n_err
    labels = ["physics", "decoded"]
    counts = [acc.physics, remaining]
    for cut in acc.cut_order:
        remaining -= acc.outcomes.get(f"cut:{cut}", 0)
        labels.append(cut)
        counts.append(remaining)
    return labels, np.asarray(counts, np.int64)

