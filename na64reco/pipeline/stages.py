"""Adapters from the chain's ``EventState`` to the library pieces, one per step.

Each stage is built once per process (templates, maps and fitters loaded up front) and
reports whether its library piece is part of this build.
"""

from __future__ import annotations

import importlib.util

from ..config import JobConfig
from .chain import EventState, Stage

__all__ = ["default_stages", "MissingStage"]


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
