"""One event at a time, for displays and notebooks: decode and reconstruct event K of a file."""

from __future__ import annotations

import os
from typing import Any

from ..config import JobConfig
from .batch import RecoBatch
from .chain import Reconstruction
from .chunks import Chunk, scan_file
from .process import decode_chunk

__all__ = ["reconstruct_event", "decode_event"]


def _chunk_of(path: str | os.PathLike[str], index: int) -> Chunk:
    scan = scan_file(path)
    if not 0 <= index < scan.nevents:
        raise ValueError(f"{path}: no DATE event {index}; the file has events 0..{scan.nevents - 1}")
    start = int(scan.offsets[index])
    return Chunk(0, 0, str(path), start, start + int(scan.sizes[index]), index, 1)


def decode_event(path: str | os.PathLike[str], index: int) -> Any:
    """The decoded raw batch (one event) of DATE event ``index`` (0-based, file order)."""
    chunk = _chunk_of(path, index)
    raw, _, _ = decode_chunk(chunk.read(), chunk)
    return raw


def reconstruct_event(path: str | os.PathLike[str], index: int, config: JobConfig | None = None) -> tuple[RecoBatch, Any]:
    """(reco batch of one row, decoded raw batch) of DATE event ``index``; must be physics."""
    raw = decode_event(path, index)
    types = raw.events["type"]
    if types.size and int(types[0]) != 7:
        from .chunks import event_type_name

        raise ValueError(f"{path}: DATE event {index} is a {event_type_name(int(types[0]))} event, not a physics event")
    return Reconstruction(config)(raw).reco, raw
