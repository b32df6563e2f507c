"""Raw DATE data: decoding into columnar batches (``open_raw``, ``decode_bytes``).

See ``docs/raw-decoding.md`` for the decoder's conventions and error codes.
"""

from __future__ import annotations

from .._core.raw import FORMAT_F1, FORMAT_MSADC, MUX_SOURCE_ID_MIN
from .reader import ERROR_CODES, ERROR_NAMES, F1_BIN_NS, RawBatch, RawFile, decode_bytes, open_raw

__all__ = [
    "ERROR_CODES",
    "ERROR_NAMES",
    "F1_BIN_NS",
    "FORMAT_F1",
    "FORMAT_MSADC",
    "MUX_SOURCE_ID_MIN",
    "RawBatch",
    "RawFile",
    "decode_bytes",
    "open_raw",
]
