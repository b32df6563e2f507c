"""Raw DATE data: decoding into columnar batches (``open_raw``, ``decode_bytes``) and
writing (``write_raw``, ``encode_events``).

See ``docs/raw-decoding.md`` for the decoder's conventions and error codes.
"""

from __future__ import annotations

from .._core.raw import FORMAT_F1, FORMAT_MSADC, MUX_SOURCE_ID_MIN, parity_span, parity_span_and_lowest, sample_range
from .layout import EVENT_TYPE_NAMES
from .reader import ERROR_CODES, ERROR_NAMES, F1_BIN_NS, RawBatch, RawFile, decode_bytes, open_raw
from .summary import EventRecord, RawSummary, read_event, summarize
from .writer import encode_events, write_raw

__all__ = [
    "ERROR_CODES",
    "ERROR_NAMES",
    "EVENT_TYPE_NAMES",
    "F1_BIN_NS",
    "FORMAT_F1",
    "FORMAT_MSADC",
    "MUX_SOURCE_ID_MIN",
    "RawBatch",
    "RawFile",
    "decode_bytes",
    "encode_events",
    "open_raw",
    "write_raw",
    "summarize",
    "read_event",
    "RawSummary",
    "EventRecord",
    "parity_span",
    "parity_span_and_lowest",
    "sample_range",
]
