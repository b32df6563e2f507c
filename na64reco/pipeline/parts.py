"""Per-chunk results on disk, so that ``--resume`` restarts a long job where it stopped.

Beside the output ``out.root`` a job run with resume keeps ``out.root.parts/``: a
``manifest.json`` naming what the parts were computed from (input files with size and
modification time, the config digest, the chunk size) and one ``chunk-NNNNNN.npz`` per
finished chunk, each written atomically. A restart with the same inputs and config loads
the finished chunks and computes only the others; a different manifest starts afresh.
The folder is removed once the output is committed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..columns import Columns
from ..output.histograms import StandardHistograms
from .accounting import Accounting
from .batch import RecoBatch
from .process import ChunkResult

__all__ = ["PartStore"]


class PartStore:
    def __init__(self, output: Path, manifest: dict[str, Any]) -> None:
        self.dir = output.with_name(output.name + ".parts")
        self.manifest = manifest

    def open(self) -> set[int]:
        """Prepare the folder; the chunk indices already done (empty unless the manifest matches)."""
        mfile = self.dir / "manifest.json"
        if self.dir.exists():
            try:
                old = json.loads(mfile.read_text())
            except (OSError, ValueError):
                old = None
            if old != self.manifest:
                shutil.rmtree(self.dir)
        self.dir.mkdir(exist_ok=True)
        if not mfile.exists():
            tmp = mfile.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.manifest, sort_keys=True))
            os.replace(tmp, mfile)
        done = set()
        for f in self.dir.glob("chunk-*.npz"):
            try:
                done.add(int(f.stem.split("-")[1]))
            except ValueError:
                continue
        return done

    def _path(self, index: int) -> Path:
        return self.dir / f"chunk-{index:06d}.npz"

    def save(self, result: ChunkResult) -> None:
        arrays: dict[str, np.ndarray] = {f"events/{k}": v for k, v in result.reco.events.items()}
        for name, table in result.reco.jagged.items():
            arrays.update({f"jagged/{name}/{k}": v for k, v in table.items()})
        arrays.update(result.histograms.to_arrays())
        meta = {
            "accounting": result.accounting.to_dict(),
            "timings": result.timings,
            "cpu_s": result.cpu_s,
            "cutflow_labels": result.histograms.cutflow_labels,
            "jagged": list(result.reco.jagged),
            "events": list(result.reco.events),
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        target = self._path(result.index)
        tmp = target.with_name(target.name + ".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, target)

    def load(self, index: int) -> ChunkResult:
        with np.load(self._path(index)) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            events = Columns({k: z[f"events/{k}"] for k in meta["events"]})
            jagged = {}
            for name in meta["jagged"]:
                prefix = f"jagged/{name}/"
                jagged[name] = Columns({k[len(prefix):]: z[k] for k in z.files if k.startswith(prefix)})
            hists = StandardHistograms.from_arrays({k: z[k] for k in z.files if k.startswith("hist/")}, meta["cutflow_labels"])
        return ChunkResult(index, RecoBatch(events, jagged), Accounting.from_dict(meta["accounting"]), hists, meta["timings"], meta["cpu_s"])

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
