"""Input tables of the raw writer: column lookup and range checks with row-level errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["TableView", "first_bad_row"]


class TableView:
    """Read integer columns of a user table, checking presence, type and bit width.

    Every failure is a ``ValueError`` naming the table, the column and the first offending
    row with its value, so a user can find the bad entry in their own data.
    """

    def __init__(self, name: str, table: Mapping[str, Any] | None) -> None:
        self.name = name
        self._table = {} if table is None else table
        self.nrows = self._infer_rows()

    def _infer_rows(self) -> int:
        n = None
        for key in self._table:
            arr = np.asarray(self._table[key])
            if arr.ndim == 0:
                raise ValueError(f"{self.name}.{key}: expected an array, got a scalar {arr!r}")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(
                    f"{self.name}.{key}: has {arr.shape[0]} rows, expected {n} like the other columns"
                )
        return 0 if n is None else int(n)

    def has(self, column: str) -> bool:
        return column in self._table

    def raw(self, column: str) -> np.ndarray:
        if column not in self._table:
            raise ValueError(
                f"{self.name}: missing column {column!r}; columns are {sorted(self._table) or '(none)'}"
            )
        return np.asarray(self._table[column])

    def integers(
        self, column: str, lo: int, hi: int, *, default: int | None = None, what: str = ""
    ) -> np.ndarray:
        """Column ``column`` as int64 (uint64 for ranges beyond int64), all rows in [lo, hi]."""
        if column not in self._table and (default is not None or not self._table):
            # an absent table (None) reads as zero rows of every column
            return np.full(self.nrows, default or 0, dtype=np.int64)
        arr = self.raw(column)
        if arr.ndim != 1:
            raise ValueError(f"{self.name}.{column}: expected one value per row, got shape {arr.shape}")
        if arr.dtype.kind == "b":
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{self.name}.{column}: expected integers, got dtype {arr.dtype}")
        # two reductions find whether anything is out of range; the mask only on failure
        if arr.size and (int(arr.max()) > hi or ((arr.dtype.kind == "i" or lo > 0) and int(arr.min()) < lo)):
            bad = arr > hi
            if arr.dtype.kind == "i" or lo > 0:
                bad |= arr < lo
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                reason = f" ({what})" if what else ""
                raise ValueError(
                    f"{self.name}.{column}: row {row} has {arr[row]}, expected {lo}..{hi}{reason}"
                )
        if hi > np.iinfo(np.int64).max:
            return arr.astype(np.uint64, copy=False)
        return arr.astype(np.int64, copy=False)


def first_bad_row(name: str, column: str, bad: np.ndarray, values: np.ndarray, expected: str) -> None:
    """Raise the standard error for the first True row of ``bad``, if any."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}.{column}: row {row} has {values[row]}, expected {expected}")
