"""Output writers: the reco ``events`` tree with jagged branches, histograms and accounting.

Rows are re-blocked to ``rows_per_basket`` before each write, so ROOT baskets and Parquet
row groups (and so the file contents) depend only on the event stream, never on how the
job was chunked or parallelised.

ROOT layout (uproot; readable by ROOT): TTree ``events`` (flat branches, jagged branches
``<table>_<column>`` with counters ``n<table>``), histograms ``hist_<name>`` (TH1D/TH2D)
and ``cutflow``, the accounting as JSON in the TObjString ``accounting`` and the job
metadata in ``job``. Parquet: the same columns (jagged tables as lists of structs), the
accounting, metadata and histogram counts as JSON in the file's key-value metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..pipeline.accounting import Accounting
from ..pipeline.batch import RecoBatch
from .atomic import check_target, commit, discard, temporary_name
from .histograms import StandardHistograms

__all__ = ["OutputWriter", "RootWriter", "ParquetWriter", "open_writer"]

_COMPRESSION = {"none": None, "zlib": "ZLIB", "lz4": "LZ4", "zstd": "ZSTD"}


class OutputWriter:
    """Buffers batches, writes fixed-size blocks, commits atomically on ``finish``."""

    def __init__(self, path: str | Path, rows_per_block: int, jagged: bool, compression: str, force: bool,
                 expected_rows: int = 0) -> None:
        self.target = check_target(path, force)
        self.tmp = temporary_name(self.target)
        self.rows_per_block = rows_per_block
        self.jagged = jagged
        self.compression = compression
        self.expected_rows = expected_rows  # an upper bound when known (0: unknown), to size the output
        self._pending: list[RecoBatch] = []
        self._pending_rows = 0
        self.rows_written = 0
        self._closed = False

    # -- stream --------------------------------------------------------------------------
    def write(self, batch: RecoBatch) -> None:
        if not self.jagged:
            batch = RecoBatch(batch.events, {})
        self._pending.append(batch)
        self._pending_rows += batch.nevents
        while self._pending_rows >= self.rows_per_block:
            self._flush(self.rows_per_block)

    def _flush(self, nrows: int) -> None:
        merged = RecoBatch.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        block = merged.slice(0, nrows)
        rest = merged.slice(nrows, merged.nevents)
        self._pending = [rest] if rest.nevents else []
        self._pending_rows = rest.nevents
        self._write_block(block)
        self.rows_written += nrows

    def finish(self, histograms: StandardHistograms, accounting: Accounting, metadata: dict[str, Any]) -> Path:
        if self._pending_rows or self.rows_written == 0:
            if self._pending:
                self._flush(self._pending_rows)
            elif self.rows_written == 0:
                self._write_empty()
        self._finish(histograms, accounting, metadata)
        commit(self.tmp, self.target)
        self._closed = True
        return self.target

    def abort(self) -> None:
        if not self._closed:
            self._abort()
            discard(self.tmp)
            self._closed = True

    # -- format specific -------------------------------------------------------------------
    def _write_block(self, block: RecoBatch) -> None:
        raise NotImplementedError

    def _write_empty(self) -> None:
        raise NotImplementedError

    def _finish(self, histograms: StandardHistograms, accounting: Accounting, metadata: dict[str, Any]) -> None:
        raise NotImplementedError

    def _abort(self) -> None:
        pass


def _tree_arrays(block: RecoBatch) -> dict[str, Any]:
    arrays: dict[str, Any] = dict(block.events.items())
    for name in block.jagged:
        arrays[name] = block.awkward(name)
    return arrays


class RootWriter(OutputWriter):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        import uproot

        self._uproot = uproot
        comp = _COMPRESSION[self.compression]
        compression = getattr(uproot, comp)(4 if comp == "ZLIB" else 1) if comp else None
        self._file = uproot.recreate(self.tmp, compression=compression)
        self._tree: Any = None

    def _create(self, arrays: dict[str, Any]) -> None:
        types = {k: (v.type if isinstance(v, ak.Array) else v.dtype) for k, v in arrays.items()}
        self._tree = self._file.mktree(
            "events",
            types,
            title="na64reco reconstructed events",
            counter_name=lambda counted: "n" + counted,
            field_name=lambda outer, inner: inner if outer == "" else f"{outer}_{inner}",
            initial_basket_capacity=basket_capacity(self.expected_rows, self.rows_per_block),
        )

    def _write_block(self, block: RecoBatch) -> None:
        arrays = _tree_arrays(block)
        if self._tree is None:
            self._create(arrays)
        self._tree.extend(arrays)

    def _write_empty(self) -> None:
        from ..pipeline.batch import EVENT_COLUMNS, JAGGED_COLUMNS, empty_jagged
        from ..columns import Columns

        events = Columns({k: np.zeros(0, np.dtype(v)) for k, v in EVENT_COLUMNS.items()})
        empty = RecoBatch(events, {n: empty_jagged(n) for n in JAGGED_COLUMNS} if self.jagged else {})
        self._create(_tree_arrays(empty))

    def _finish(self, histograms: StandardHistograms, accounting: Accounting, metadata: dict[str, Any]) -> None:
        for name, h in histograms.to_hist().items():
            self._file["cutflow" if name == "cutflow" else f"hist_{name}"] = h
        self._file["accounting"] = accounting.to_json()
        self._file["job"] = json.dumps(metadata, sort_keys=True)
        self._file.close()

    def _abort(self) -> None:
        self._file.close()


class ParquetWriter(OutputWriter):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._writer: Any = None

    def _table(self, block: RecoBatch) -> Any:
        return ak.to_arrow_table(ak.zip(_tree_arrays(block), depth_limit=1), extensionarray=False)

    def _write_block(self, block: RecoBatch) -> None:
        import pyarrow.parquet as pq

        table = self._table(block)
        if self._writer is None:
            comp = "NONE" if self.compression == "none" else self.compression.upper()
            if comp == "ZLIB":
                comp = "GZIP"
            self._writer = pq.ParquetWriter(self.tmp, table.schema, compression=comp)
        self._writer.write_table(table, row_group_size=self.rows_per_block)

    def _write_empty(self) -> None:
        from ..pipeline.batch import EVENT_COLUMNS, JAGGED_COLUMNS, empty_jagged
        from ..columns import Columns

        events = Columns({k: np.zeros(0, np.dtype(v)) for k, v in EVENT_COLUMNS.items()})
        self._write_block(RecoBatch(events, {n: empty_jagged(n) for n in JAGGED_COLUMNS} if self.jagged else {}))

    def _finish(self, histograms: StandardHistograms, accounting: Accounting, metadata: dict[str, Any]) -> None:
        hists = {k: v.tolist() for k, v in histograms.counts.items()}
        hists["cutflow"] = {"labels": histograms.cutflow_labels, "counts": histograms.cutflow.tolist()}
        self._writer.add_key_value_metadata(
            {
                "na64reco.accounting": accounting.to_json(),
                "na64reco.job": json.dumps(metadata, sort_keys=True),
                "na64reco.histograms": json.dumps(hists),
            }
        )
        self._writer.close()

    def _abort(self) -> None:
        if self._writer is not None:
            self._writer.close()


def basket_capacity(expected_rows: int, rows_per_block: int) -> int:
    """Baskets per branch the TTree reserves room for: every block written is one basket per
    branch, and outgrowing the room makes uproot rewrite the tree's whole description (every
    branch, every basket so far: 0.8 us an event of a 100k-event job at the default 10).
    Room for the blocks the expected rows fill and the partial ones at chunk ends; an unknown
    size keeps uproot's default. Each slot costs a branch 20 bytes before compression."""
    if expected_rows <= 0:
        return 10
    return max(10, -(-expected_rows // max(rows_per_block, 1)) + 2)


def open_writer(path: str | Path, fmt: str, rows_per_block: int, jagged: bool, compression: str, force: bool,
                expected_rows: int = 0) -> OutputWriter:
    cls = {"root": RootWriter, "parquet": ParquetWriter}.get(fmt)
    if cls is None:
        raise ValueError(f"output format {fmt!r} unknown; choose 'root' or 'parquet'")
    return cls(path, rows_per_block, jagged, compression, force, expected_rows)
