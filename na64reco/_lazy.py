"""Module attributes imported when first read (PEP 562), for the package's ``__init__`` files.

A job's worker processes import only the reconstruction chain; the packages above it name
their public parts eagerly in ``__all__`` but import them on first use, so that a worker
never pays for the simulation, awkward, pyarrow or uproot.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from importlib.util import find_spec
from typing import Any


def lazy_attributes(package: str, namespace: dict[str, Any], names: Mapping[str, str],
                    submodules: Iterable[str] | None = None) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` (its ``__name__``; ``namespace`` its
    ``globals()``): ``names`` maps a public name to the relative module that defines it; any
    other name is the package's module of that name (``submodules``: only these; None: any
    that exists). A value read once is kept in the namespace; ``dir()`` lists ``__all__``."""
    allowed = None if submodules is None else frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in names:
            value = getattr(importlib.import_module(names[name], package), name)
        elif (name in allowed if allowed is not None
              else not name.startswith("_") and find_spec(f"{package}.{name}") is not None):
            value = importlib.import_module(f".{name}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace["__all__"])

    return __getattr__, __dir__
