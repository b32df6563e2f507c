"""Straw tube reconstruction: r(t), plane clusters with left-right resolution, station
points and straight segments. ``reconstruct_straws(hits, n_events, geometry, rt)``."""

from __future__ import annotations

from .._core.straw import RtRelation, StrawPlane
from .config import DEFAULT_GEOMETRY, DEFAULT_RT, StrawConfigError, StrawGeometry, load_geometry, load_rt
from .reconstruct import HIT_STATUS_NAMES, StrawConfig, StrawResult, reconstruct_straws

__all__ = [
    "DEFAULT_GEOMETRY",
    "DEFAULT_RT",
    "HIT_STATUS_NAMES",
    "RtRelation",
    "StrawConfig",
    "StrawConfigError",
    "StrawGeometry",
    "StrawPlane",
    "StrawResult",
    "load_geometry",
    "load_rt",
    "reconstruct_straws",
]
