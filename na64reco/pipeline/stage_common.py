"""Helpers the chain's stages share: plane names, templates per plane, run lookup, missing stages."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ..config import JobConfig
from .chain import EventState


# SADC plane numbers (docs/data-model.md).
SADC_PLANE_NAMES = ("ECAL0", "ECAL1", "HCAL0", "HCAL1", "HCAL2", "HCAL3", "VETO", "SRD", "S1", "S2", "S3", "S4", "V1", "V2")
_TEMPLATE_OF_PLANE = ("ecal", "ecal", "hcal", "hcal", "hcal", "hcal", "veto", "srd")


def template_kind(plane: int) -> str:
    return _TEMPLATE_OF_PLANE[plane] if 0 <= plane < len(_TEMPLATE_OF_PLANE) else "counter"


def template_for_plane(plane: int, template_dir: str = "") -> Path:
    """The pulse template file of an SADC plane (docs/data-model.md plane numbers)."""
    base = Path(template_dir) if template_dir else Path(__file__).resolve().parent.parent / "data" / "templates"
    return base / f"{template_kind(plane)}.txt"


class MissingStage:
    """A step whose library module is not in this build: it only marks the events."""

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self.module = module

    def available(self) -> bool:
        return False

    def __call__(self, state: EventState) -> None:
        raise RuntimeError(f"stage {self.name!r} needs {self.module}, which this build lacks")


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _run_of(state: EventState, config: JobConfig) -> int:
    """The run whose detector description serves the batch (a chunk lies in one file)."""
    runs = state.columns["run"]
    return int(runs[0]) if runs.size else 0


class _PerRun:
    """Caches a run-dependent object (maps, calibration, geometry) by run number."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._cache: dict[int, Any] = {}

    def __call__(self, run: int) -> Any:
        if run not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[run] = self._build(run)
        return self._cache[run]


def _split_runs(state: EventState) -> list[tuple[int, np.ndarray]]:
    """(run, event rows) for each run present in the batch (almost always one)."""
    runs = state.columns["run"]
    values = np.unique(runs)
    if values.size <= 1:
        return [(int(values[0]) if values.size else 0, np.arange(runs.size))]
    return [(int(r), np.flatnonzero(runs == r)) for r in values]
