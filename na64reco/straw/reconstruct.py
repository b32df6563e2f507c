"""Straw hits (TDC times) -> drift radii, plane clusters, station points and one segment
per event. Lengths in mm, times in ns; z along the beam with the ECAL face at 0."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._core import straw as _straw
from ..columns import Columns
from .config import StrawGeometry

__all__ = ["StrawConfig", "StrawResult", "reconstruct_straws", "HIT_STATUS_NAMES"]

HIT_STATUS_NAMES = {0: "used", 1: "outside_drift_window", 2: "bad_address", 3: "duplicate"}


def _default_core_config() -> _straw.StrawConfig:
    return _straw.StrawConfig()


@dataclass
class StrawConfig:
    core: _straw.StrawConfig = field(default_factory=_default_core_config)


@dataclass(frozen=True)
class StrawResult:
    events: Columns  # one row per event: multiplicities, dropped hits, segment
    hits: Columns  # one row per input hit, input order: radius, radius_err, status
    clusters: Columns  # per plane cluster: event, plane, u, u_alt, u_err, z, n_hits, ambiguous, in_segment
    points: Columns  # per station X x Y combination: event, station, x, y, z


def reconstruct_straws(
    hits: Mapping[str, np.ndarray],
    n_events: int,
    geometry: StrawGeometry,
    rt: _straw.RtRelation,
    config: StrawConfig | None = None,
) -> StrawResult:
    """hits: columns event (row in the batch), plane (-1 = unmapped), layer, tube, time_ns."""
    config = config or StrawConfig()
    event = np.asarray(hits["event"], dtype=np.int64)
    order = np.argsort(event, kind="stable") if event.size > 1 and np.any(event[1:] < event[:-1]) else None

    def col(name: str, dtype: type) -> np.ndarray:
        a = np.asarray(hits[name])
        if a.dtype.kind in "iu" and np.dtype(dtype).kind == "i":
            info = np.iinfo(dtype)
            a = np.where((a < info.min) | (a > info.max), -1, a)  # out-of-range ids become bad addresses
        a = a.astype(dtype, copy=False)
        return a if order is None else a[order]

    out = _straw.reconstruct_straws(
        event if order is None else event[order],
        col("plane", np.int16),
        col("layer", np.int8),
        col("tube", np.int16),
        col("time_ns", np.float64),
        int(n_events),
        list(geometry.planes),
        rt,
        config.core,
    )
    hit_cols = out["hits"]
    if order is not None:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        hit_cols = {k: v[inverse] for k, v in hit_cols.items()}
    ev = out["events"]
    events = Columns({**ev, "seg_ok": ev["seg_ok"].astype(bool)})
    cl = out["clusters"]
    clusters = Columns({**cl, "ambiguous": cl["ambiguous"].astype(bool)})
    return StrawResult(events, Columns(hit_cols), clusters, Columns(out["points"]))
