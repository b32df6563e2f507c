"""Reco output: ROOT (uproot) or Parquet files, written atomically, and reading them back."""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

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


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "HISTOGRAMS",
    "OutputExistsError",
    "StandardHistograms",
    "open_writer",
    "read_accounting",
    "read_events",
    "read_histograms",
]
