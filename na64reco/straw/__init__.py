"""Straw tube reconstruction: r(t), plane clusters with left-right resolution, station
points and straight segments. ``reconstruct_straws(hits, n_events, geometry, rt)``."""

from __future__ import annotations

from .._core.straw import RtRelation, StrawPlane
from .config import (
    DEFAULT_RT,
    DEFAULT_T0,
    TOY_GEOMETRY,
    StrawConfigError,
    StrawGeometry,
    geometry_from_setup,
    load_geometry,
    load_rt,
    load_t0,
)
from .reconstruct import HIT_STATUS_NAMES, StrawConfig, StrawResult, reconstruct_straws

__all__ = [
    "DEFAULT_RT",
    "DEFAULT_T0",
    "TOY_GEOMETRY",
    "HIT_STATUS_NAMES",
    "RtRelation",
    "StrawConfig",
    "StrawConfigError",
    "StrawGeometry",
    "StrawPlane",
    "StrawResult",
    "geometry_from_setup",
    "load_geometry",
    "load_rt",
    "load_t0",
    "reconstruct_straws",
]
