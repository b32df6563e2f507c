"""Write NA64 raw DATE files from tables of events, MSADC digits and F1 TDC hits.

The writer is the inverse of the decoder and the simulator's way to produce raw data. A file
is built as whole word arrays with numpy: sizes are computed bottom-up (channel records ->
ADC blocks -> S-Link blocks -> equipments -> sub-events -> events), offsets top-down by
cumulative sums, and every header and data word is scattered into one ``uint32`` array per
chunk of events. There is no Python loop over events or digits.

Conventions of what is written (the byte layouts are in docs/raw-writer.md):

- Events are written in table order. Types 6, 7 and 8 carry one S-Link block for every
  source of the file (empty when it has no data in that event); other types are a bare
  header and must have no digits.
- Within an event: sub-events (super events) in LDC order, equipments by lowest source id,
  sources ascending inside a multiplexer; within a source, MSADC blocks by (port, chip)
  ascending, channel records and F1 hits in table order. A new F1 header word starts when the
  port or the trigger time changes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._encoder import ChunkEncoder, WordScratch
from ._write_input import WriterInput

__all__ = ["write_raw", "encode_events"]


def _chunks(data: WriterInput, chunk_events: int):
    if chunk_events < 1:
        raise ValueError(f"chunk_events must be >= 1, got {chunk_events}")
    for lo in range(0, max(data.n_events, 1), chunk_events):
        hi = min(lo + chunk_events, data.n_events)
        s_lo, s_hi = np.searchsorted(data.s_event, [lo, hi])
        t_lo, t_hi = np.searchsorted(data.t_event, [lo, hi])
        yield lo, hi, (int(s_lo), int(s_hi)), (int(t_lo), int(t_hi))


def _encode_iter(events, sadc, tdc, *, super_events, multiplexed_sources, ldc_groups, sources,
                 chunk_events, reuse_words=False):
    """Byte views of the encoded chunks. reuse_words: every chunk is encoded into the same
    arrays, so a view is valid only until the next one is asked for (for a consumer that
    writes each one out at once)."""
    data = WriterInput(
        events, sadc, tdc, sources or (),
        dict(multiplexed_sources=multiplexed_sources, ldc_groups=ldc_groups,
             super_events=bool(super_events)),
    )
    encoder = ChunkEncoder(data, bool(super_events))
    scratch = WordScratch() if reuse_words else None
    for lo, hi, s_range, t_range in _chunks(data, chunk_events):
        if hi > lo:
            # a byte view of the little-endian words: no copy on the way to the file
            words = encoder.encode(lo, hi, s_range, t_range, scratch)
            yield memoryview(words.astype("<u4", copy=False)).cast("B")


def encode_events(
    events: Mapping[str, Any],
    sadc: Mapping[str, Any] | None = None,
    tdc: Mapping[str, Any] | None = None,
    *,
    super_events: bool = False,
    multiplexed_sources: Mapping[int, Iterable[int]] | Iterable[Iterable[int]] = (),
    ldc_groups: Mapping[int, Iterable[int]] | None = None,
    sources: Iterable[int] | None = None,
    chunk_events: int = 2_000,
) -> bytes:
    """The bytes ``write_raw`` would write for these tables (see there for the arguments)."""
    return b"".join(_encode_iter(
        events, sadc, tdc, super_events=super_events, multiplexed_sources=multiplexed_sources,
        ldc_groups=ldc_groups, sources=sources, chunk_events=chunk_events,
    ))


def write_raw(
    path_or_fileobj: str | os.PathLike[str] | IO[bytes],
    events: Mapping[str, Any],
    sadc: Mapping[str, Any] | None = None,
    tdc: Mapping[str, Any] | None = None,
    *,
    super_events: bool = False,
    multiplexed_sources: Mapping[int, Iterable[int]] | Iterable[Iterable[int]] = (),
    ldc_groups: Mapping[int, Iterable[int]] | None = None,
    sources: Iterable[int] | None = None,
    chunk_events: int = 2_000,
) -> int:
    """Write a DATE raw file; returns the number of bytes written.

    events: columns ``run, spill, event_in_run, event_in_spill, type, trigger_mask`` and
        optionally ``time, ldc, gdc, detector_pattern`` (0 when absent).
    sadc: MSADC digits ``event`` (row of events), ``source_id, port, chip, channel,
        nsamples, samples`` (n, W) and optionally ``sum`` (default: the sum of the recorded
        samples modulo 2**16).
    tdc: F1 hits ``event, source_id, port, chip, channel, raw_time, trigger_time``.
    super_events: write each equipment-carrying event as a super event of one sub-event per
        LDC; ``ldc_groups`` maps LDC id -> equipment ids (source or multiplexer ids), default
        one LDC per equipment.
    multiplexed_sources: groups of source ids read through an S-Link multiplexer, as
        ``{mux_id: sources}`` (ids 896..1023) or a list of groups (ids 896, 897, ...).
    sources: source ids that send a (possibly empty) block in every event even without data.

    A path is written atomically: to a temporary file in the same folder, then renamed.
    """
    # a file's write() is done with its argument when it returns (the io contract: "the caller
    # may release or mutate b after this method returns"), so every chunk reuses one word array
    kwargs = dict(super_events=super_events, multiplexed_sources=multiplexed_sources,
                  ldc_groups=ldc_groups, sources=sources, chunk_events=chunk_events, reuse_words=True)
    if hasattr(path_or_fileobj, "write"):
        written = 0
        for part in _encode_iter(events, sadc, tdc, **kwargs):
            path_or_fileobj.write(part)
            written += len(part)
        return written
    path = Path(os.fspath(path_or_fileobj))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        written = 0
        with os.fdopen(fd, "wb") as fh:
            for part in _encode_iter(events, sadc, tdc, **kwargs):
                fh.write(part)
                written += len(part)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written
