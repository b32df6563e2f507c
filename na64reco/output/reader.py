"""Read a reco output back (ROOT or Parquet) as awkward arrays, histograms and counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

__all__ = ["read_events", "read_accounting", "read_histograms", "read_job"]


def _is_parquet(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"


def read_events(path: str | Path, columns: list[str] | None = None) -> ak.Array:
    """The ``events`` rows; jagged tables as lists of records (``events.cells.energy``)."""
    p = Path(path)
    if _is_parquet(p):
        arr = ak.from_parquet(p, columns=columns)
        return arr
    import uproot

    with uproot.open(p) as f:
        tree = f["events"]
        raw = tree.arrays(library="ak")
    fields: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    counters = {k[1:] for k in raw.fields if k.startswith("n") and any(f.startswith(k[1:] + "_") for f in raw.fields)}
    for name in raw.fields:
        owner = next((c for c in counters if name.startswith(c + "_")), None)
        if owner is not None:
            groups.setdefault(owner, {})[name[len(owner) + 1 :]] = raw[name]
        elif name.startswith("n") and name[1:] in counters:
            continue
        else:
            fields[name] = raw[name]
    for owner, cols in groups.items():
        fields[owner] = ak.zip(cols)
    out = ak.zip(fields, depth_limit=1)
    return out[columns] if columns else out


def _root_text(path: Path, key: str) -> str:
    import uproot

    with uproot.open(path) as f:
        return str(f[key])


def _parquet_meta(path: Path, key: str) -> str:
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path).metadata or {}
    return meta[key.encode()].decode()


def read_accounting(path: str | Path) -> dict[str, Any]:
    """The job's event accounting (see ``na64reco.pipeline.Accounting``)."""
    p = Path(path)
    text = _parquet_meta(p, "na64reco.accounting") if _is_parquet(p) else _root_text(p, "accounting")
    return json.loads(text)


def read_job(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    text = _parquet_meta(p, "na64reco.job") if _is_parquet(p) else _root_text(p, "job")
    return json.loads(text)


def read_histograms(path: str | Path) -> dict[str, Any]:
    """The standard histograms as ``hist.Hist`` (the cut flow under ``cutflow``)."""
    from .histograms import StandardHistograms

    p = Path(path)
    if _is_parquet(p):
        d = json.loads(_parquet_meta(p, "na64reco.histograms"))
        h = StandardHistograms()
        for k in h.counts:
            h.counts[k] = np.asarray(d[k], np.int64)
        h.set_cutflow(d["cutflow"]["labels"], np.asarray(d["cutflow"]["counts"], np.int64))
        return h.to_hist()
    import uproot

    out = {}
    with uproot.open(p) as f:
        for key in f.keys(cycle=False):
            if key.startswith("hist_") or key == "cutflow":
                out[key.removeprefix("hist_")] = f[key].to_hist()
    return out
