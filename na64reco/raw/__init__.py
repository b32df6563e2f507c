"""Raw DATE data: writing (``write_raw``) and the layout constants."""

from __future__ import annotations

from .layout import EVENT_TYPE_NAMES
from .writer import encode_events, write_raw

__all__ = ["EVENT_TYPE_NAMES", "encode_events", "write_raw"]
