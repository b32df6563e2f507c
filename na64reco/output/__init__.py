"""Reco output: ROOT (uproot) or Parquet files, written atomically, and reading them back."""

from __future__ import annotations

import importlib as _importlib
from importlib.util import find_spec as _find_spec
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
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
    elif not name.startswith("_") and _find_spec(f"{__name__}.{name}") is not None:
        value = _importlib.import_module(f".{name}", __name__)  # a module of the package (reader, writers)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
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
