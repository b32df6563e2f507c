"""A named set of equal-length numpy columns: the batch currency of na64reco.

Every table the library hands out (decoded events, digits, pulses, clusters, ...) is a
``Columns``: structure of arrays, no Python object per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["Columns"]


class Columns(Mapping[str, np.ndarray]):
    """Ordered mapping of column name -> numpy array, all with the same first dimension.

    Columns are reachable as items (``t["amplitude"]``) and as attributes (``t.amplitude``).
    """

    __slots__ = ("_cols", "_n")

    def __init__(self, columns: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        cols: dict[str, np.ndarray] = {}
        merged = dict(columns or {}, **kwargs)
        n: int | None = None
        for name, values in merged.items():
            arr = np.asarray(values)
            if arr.ndim == 0:
                raise ValueError(f"column {name!r} must be an array, got a scalar {arr!r}")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(
                    f"column {name!r} has {arr.shape[0]} rows, expected {n} like the columns before it"
                )
            cols[name] = arr
        object.__setattr__(self, "_cols", cols)
        object.__setattr__(self, "_n", 0 if n is None else int(n))

    def __getitem__(self, key: str) -> np.ndarray:
        return self._cols[key]

    def __getattr__(self, key: str) -> np.ndarray:
        if key in ("_cols", "_n"):  # not yet set (unpickling, failed __init__): no recursion
            raise AttributeError(key)
        try:
            return self._cols[key]
        except KeyError:
            raise AttributeError(
                f"no column {key!r}; columns are {', '.join(self._cols) or '(none)'}"
            ) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Columns are read-only; build a new one with with_columns()")

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle (Dask, multiprocessing) through the constructor: __setattr__ is disabled
        return (Columns, (self._cols,))

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)

    @property
    def nrows(self) -> int:
        """Number of rows (the shared first dimension)."""
        return self._n

    def with_columns(self, **new: Any) -> "Columns":
        """A copy with columns added or replaced."""
        return Columns({**self._cols, **new})

    def take(self, index: Any) -> "Columns":
        """Rows selected by a boolean mask, an integer index array or a slice."""
        return Columns({k: v[index] for k, v in self._cols.items()})

    def to_dict(self) -> dict[str, np.ndarray]:
        return dict(self._cols)

    @staticmethod
    def concatenate(parts: list["Columns"]) -> "Columns":
        """Stack tables with identical column names row-wise."""
        if not parts:
            return Columns()
        names = list(parts[0])
        for p in parts[1:]:
            if list(p) != names:
                raise ValueError(f"cannot concatenate tables with columns {list(p)} and {names}")
        return Columns({k: np.concatenate([p[k] for p in parts]) for k in names})

    def __repr__(self) -> str:
        desc = ", ".join(f"{k}: {v.dtype}{list(v.shape[1:]) or ''}" for k, v in self._cols.items())
        return f"Columns({self._n} rows; {desc})"
