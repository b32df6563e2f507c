"""Adapters from the chain's ``EventState`` to the library pieces, one per step.

Each stage is built once per process (templates, maps and fitters loaded up front, the
run-dependent description cached per run) and reports whether its library piece is part of
this build; a missing piece becomes a ``MissingStage``.

    fit        na64reco.detector (maps) + na64reco.waveform (templates, WaveformFitter)
    calo       na64reco.calo.reconstruct_calo (calibration, clusters, event variables)
    straw      na64reco.straw.reconstruct_straws (r(t), points, segment)
    trigger    na64reco.firmware (emulation of the trigger on the recorded windows)
    selection  the cut flow (na64reco.selection when present, else the job's [cuts])
"""

from __future__ import annotations

from ..config import JobConfig
from .chain import Stage
from .stage_calo import CaloStage, calo_calibration
from .stage_common import SADC_PLANE_NAMES, MissingStage, _has, template_for_plane, template_kind
from .stage_fit import FitStage
from .stage_selection import SelectionStage
from .stage_straw import StrawStage
from .stage_trigger import TriggerStage

__all__ = [
    "CaloStage",
    "FitStage",
    "MissingStage",
    "SADC_PLANE_NAMES",
    "SelectionStage",
    "StrawStage",
    "TriggerStage",
    "calo_calibration",
    "default_stages",
    "template_for_plane",
    "template_kind",
]


def default_stages(config: JobConfig) -> list[Stage]:
    """The chain in order: fit, calo, straw, trigger, selection."""
    stages: list[Stage] = []
    have_fit = _has("na64reco.waveform") and _has("na64reco.detector")
    stages.append(FitStage(config) if have_fit else MissingStage("fit", "na64reco.waveform"))
    stages.append(CaloStage(config) if have_fit and _has("na64reco.calo") else MissingStage("calo", "na64reco.calo"))
    stages.append(StrawStage(config) if _has("na64reco.straw") and _has("na64reco.detector") else MissingStage("straw", "na64reco.straw"))
    have_trigger = have_fit and _has("na64reco.firmware") and _has("fpga_model")
    stages.append(TriggerStage(config) if have_trigger else MissingStage("trigger", "na64reco.firmware"))
    stages.append(SelectionStage(config) if _has("na64reco.selection") else MissingStage("selection", "na64reco.selection"))
    return stages
