"""Truth sidecar files (Parquet): one table per file, streamed chunk by chunk.

``truth.parquet`` holds one row per physics event; beside it ``truth.pulses.parquet``
(every generated pulse), ``truth.particles.parquet`` (trigger and pile-up particles),
``truth.straws.parquet`` (true straw hits, noise included) and ``truth.channels.parquet``
(pedestals, noise and calibration of every SADC cell). docs/simulation.md lists the columns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "TRUTH_TABLES",
    "RUN_METADATA_KEY",
    "truth_paths",
    "TruthWriter",
    "to_arrow",
    "read_truth",
    "read_truth_metadata",
]

RUN_METADATA_KEY = b"na64reco.sim"

TRUTH_TABLES = ("events", "pulses", "particles", "straws", "channels")


def truth_paths(path: str | os.PathLike[str], tables=TRUTH_TABLES) -> dict[str, Path]:
    """File of each truth table: the events table at ``path``, the others beside it."""
    path = Path(os.fspath(path))
    stem = path.name[: -len(".parquet")] if path.name.endswith(".parquet") else path.name
    return {t: path if t == "events" else path.with_name(f"{stem}.{t}.parquet") for t in tables}


def to_arrow(columns: dict[str, np.ndarray]) -> pa.Table:
    """2-D columns become fixed-size list columns (one list per row)."""
    arrays, names = [], []
    for name, arr in columns.items():
        arr = np.asarray(arr)
        if arr.ndim == 2:
            arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(arr.ravel()), arr.shape[1]))
        else:
            arrays.append(pa.array(arr))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


class TruthWriter:
    """One ``ParquetWriter`` per table, opened at the first chunk."""

    def __init__(self, files: dict[str, str | os.PathLike[str]], metadata: dict | None = None) -> None:
        unknown = sorted(set(files) - set(TRUTH_TABLES))
        if unknown:
            raise ValueError(f"unknown truth tables {unknown}; known: {list(TRUTH_TABLES)}")
        self._files = dict(files)
        self._writers: dict[str, pq.ParquetWriter] = {}
        # every file records how it was made: seed, event count, every SimConfig value
        self._metadata = {RUN_METADATA_KEY: json.dumps(metadata or {}, sort_keys=True)}

    def write(self, table: str, columns: dict[str, np.ndarray]) -> None:
        if table not in self._files:
            return
        t = to_arrow(columns)
        w = self._writers.get(table)
        if w is None:
            # dictionaries pay off for keys and flags; on float columns they cost 3x the time
            keys = [k for k, v in columns.items() if np.asarray(v).ndim == 1 and np.asarray(v).dtype.kind in "iub"]
            schema = t.schema.with_metadata(self._metadata)
            w = pq.ParquetWriter(self._files[table], schema, compression="zstd", use_dictionary=keys)
            self._writers[table] = w
        w.write_table(t.replace_schema_metadata(self._metadata))

    def write_chunk(self, chunk) -> None:
        self.write("events", chunk.truth_events)
        self.write("pulses", chunk.truth_pulses)
        self.write("particles", chunk.truth_particles)
        self.write("straws", chunk.truth_straws)

    def close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()

    def abort(self) -> None:
        for w in self._writers.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - the files are being discarded anyway
                pass
        self._writers.clear()


def read_truth(path: str | os.PathLike[str], table: str = "events") -> dict[str, np.ndarray]:
    """A truth table as numpy columns (list columns become 2-D arrays)."""
    if table not in TRUTH_TABLES:
        raise ValueError(f"unknown truth table {table!r}; known: {list(TRUTH_TABLES)}")
    t = pq.read_table(truth_paths(path, (table,))[table])
    out = {}
    for name in t.column_names:
        col = t.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(col.type):
            out[name] = col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out


def read_truth_metadata(path: str | os.PathLike[str]) -> dict:
    """How a truth file was made: ``seed``, ``n_events``, ``config`` (every SimConfig value)."""
    meta = pq.read_schema(os.fspath(path)).metadata or {}
    if RUN_METADATA_KEY not in meta:
        raise ValueError(f"{os.fspath(path)}: no {RUN_METADATA_KEY.decode()} metadata; not a simulation truth file")
    return json.loads(meta[RUN_METADATA_KEY])
