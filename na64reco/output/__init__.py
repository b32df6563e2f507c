"""Reco output: ROOT (uproot) or Parquet files, written atomically, and reading them back."""

from __future__ import annotations

import typing as _typing

from .._lazy import lazy_attributes
from .atomic import OutputExistsError
from .histograms import HISTOGRAMS, StandardHistograms

# The readers and writers (awkward, uproot, pyarrow) are imported when first used: the
# processes that only fill histograms never need them.
_LAZY = {
    "open_writer": ".writers",
    "read_accounting": ".reader",
    "read_events": ".reader",
    "read_histograms": ".reader",
}

if _typing.TYPE_CHECKING:
    from .reader import read_accounting, read_events, read_histograms
    from .writers import open_writer


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY)

__all__ = [
    "HISTOGRAMS",
    "OutputExistsError",
    "StandardHistograms",
    "open_writer",
    "read_accounting",
    "read_events",
    "read_histograms",
]
