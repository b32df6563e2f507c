"""Straw-tube hits of straight tracks: drift radius -> drift time -> F1 TDC words.

Every beam particle is charged and crosses all straw planes on a straight line. In each
layer the nearest tube is hit when the track passes within the tube radius (the staggered
second layer covers the first one's gaps); the drift radius is the distance of closest
approach, smeared by ``straw_sigma_r_mm`` before it is turned into a time through the
r(t) table. Hits are kept with probability ``straw_efficiency``; Poisson noise hits fall
on random tubes at random times of the TDC window.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .beam import Particles
from .config import SimConfig

__all__ = ["RtRelation", "load_rt", "StrawGeometry", "StrawHits", "straw_hits", "F1_BIN_NS"]

F1_BIN_NS = 0.1  # docs/data-model.md: F1 time convention


@dataclass(frozen=True)
class RtRelation:
    """Monotonic drift-time -> drift-radius table."""

    t_ns: np.ndarray
    r_mm: np.ndarray

    def radius(self, t_ns: np.ndarray) -> np.ndarray:
        return np.interp(t_ns, self.t_ns, self.r_mm)

    def time(self, r_mm: np.ndarray) -> np.ndarray:
        return np.interp(r_mm, self.r_mm, self.t_ns)

    @property
    def max_radius_mm(self) -> float:
        return float(self.r_mm[-1])


@lru_cache(maxsize=None)
def load_rt(name: str = "rt_default") -> RtRelation:
    """The r(t) table ``na64reco/data/straw/<name>.txt`` (columns t_ns, r_mm)."""
    text = resources.files("na64reco").joinpath("data", "straw", f"{name}.txt").read_text()
    table = np.loadtxt(text.splitlines(), comments="#", ndmin=2)
    if table.shape[1] != 2 or table.shape[0] < 2:
        raise ValueError(f"r(t) table {name}.txt: expected two columns t_ns r_mm, got shape {table.shape}")
    if np.any(np.diff(table[:, 0]) <= 0) or np.any(np.diff(table[:, 1]) <= 0):
        raise ValueError(f"r(t) table {name}.txt: t_ns and r_mm must both increase strictly")
    return RtRelation(table[:, 0].copy(), table[:, 1].copy())


@dataclass(frozen=True)
class StrawGeometry:
    """Straw planes (P) of L layers of T tubes each, with their F1 addresses.

    Coordinates are in the ECAL frame (mm); ``z_mm`` along the beam with the ECAL face at
    ``z_ref_mm``. A plane measures x (axis 0) or y (axis 1); tube k of layer l sits at
    ``first_tube_mm[p, l] + k * pitch_mm[p]``.
    """

    names: tuple[str, ...]
    plane_number: np.ndarray  # (P,) straw plane number as the setup numbers them
    z_mm: np.ndarray  # (P, L)
    axis: np.ndarray  # (P,) 0 = x, 1 = y
    first_tube_mm: np.ndarray  # (P, L)
    pitch_mm: np.ndarray  # (P,)
    n_tubes: int
    tube_radius_mm: float
    source_id: np.ndarray  # (P, L, T)
    port: np.ndarray
    chip: np.ndarray
    channel: np.ndarray
    z_ref_mm: float = 0.0

    @property
    def n_planes(self) -> int:
        return int(self.z_mm.shape[0])

    @property
    def n_layers(self) -> int:
        return int(self.z_mm.shape[1])


# column order of the straw truth table
_TRUTH_ORDER = ("event", "straw_plane", "layer", "tube", "r_true_mm", "r_smeared_mm", "drift_true_ns", "time_ns",
                "particle", "is_pileup", "is_noise")


@dataclass
class StrawHits:
    """Recorded F1 hits (``tdc``, ready for the writer) and the true hits behind them."""

    tdc: dict[str, np.ndarray]
    truth: dict[str, np.ndarray]


def straw_hits(
    rng: np.random.Generator,
    cfg: SimConfig,
    geo: StrawGeometry,
    rt: RtRelation,
    particles: Particles,
    n_events: int,
    trigger_time: np.ndarray,
    *,
    with_truth: bool = True,
) -> StrawHits:
    """Hits of all particles plus noise; ``trigger_time`` (n_events,) is the 9-bit F1 trigger time.

    ``with_truth=False`` leaves out the truth columns the F1 hits are not made from (the
    ``truth`` dict then holds only event, straw_plane, layer, tube, time_ns, time_bins,
    recorded); the random draws and the hits are the same.
    """
    P, L, T = geo.n_planes, geo.n_layers, geo.n_tubes
    n = particles.n
    z = geo.z_mm[None, :, :] - geo.z_ref_mm
    is_y = (geo.axis == 1)[None, :, None]
    u0 = np.where(is_y, particles.y_mm[:, None, None], particles.x_mm[:, None, None])
    slope = np.where(is_y, particles.ty[:, None, None], particles.tx[:, None, None])
    u = u0 + slope * z  # (n, P, L)
    rel = (u - geo.first_tube_mm[None]) / geo.pitch_mm[None, :, None]
    tube = np.rint(rel).astype(np.int64)
    r_true = np.abs(rel - tube) * geo.pitch_mm[None, :, None] / np.sqrt(1.0 + slope * slope)
    hit = (tube >= 0) & (tube < T) & (r_true < geo.tube_radius_mm)
    hit &= rng.random(hit.shape) < cfg.straw_efficiency

    idx_p, idx_plane, idx_layer = np.nonzero(hit)
    r_hit = r_true[idx_p, idx_plane, idx_layer]
    r_max = min(rt.max_radius_mm, geo.tube_radius_mm)
    r_meas = np.clip(r_hit + cfg.straw_sigma_r_mm * rng.standard_normal(r_hit.size), 0.0, r_max)
    drift_true = rt.time(np.minimum(r_hit, r_max)) if with_truth else None
    drift = rt.time(r_meas)
    t_ns = drift + cfg.straw_t0_ns + particles.dt_ns[idx_p]
    tube_hit = tube[idx_p, idx_plane, idx_layer]
    ev = particles.event[idx_p]

    # noise hits: Poisson per (event, plane, layer)
    counts = rng.poisson(cfg.straw_noise_per_layer, n_events * P * L) if cfg.straw_noise_per_layer > 0 else None
    if counts is not None and counts.sum():
        cell = np.repeat(np.arange(n_events * P * L), counts)
        n_ev, n_pl, n_la = np.unravel_index(cell, (n_events, P, L))
        n_tube = rng.integers(0, T, cell.size)
        n_t = rng.uniform(cfg.tdc_window_ns[0], cfg.tdc_window_ns[1], cell.size)
    else:
        n_ev = n_pl = n_la = n_tube = np.zeros(0, dtype=np.int64)
        n_t = np.zeros(0)

    truth = {
        "event": np.concatenate([ev, n_ev]).astype(np.int64),
        "straw_plane": np.concatenate([idx_plane, n_pl]).astype(np.int16),
        "layer": np.concatenate([idx_layer, n_la]).astype(np.int8),
        "tube": np.concatenate([tube_hit, n_tube]).astype(np.int16),
        "time_ns": np.concatenate([t_ns, n_t]),
    }
    if with_truth:
        nan = np.full(n_t.size, np.nan)
        truth.update({
            "r_true_mm": np.concatenate([r_hit, nan]),
            "r_smeared_mm": np.concatenate([r_meas, nan]),
            "drift_true_ns": np.concatenate([drift_true, nan]),
            "particle": np.concatenate([idx_p, np.full(n_t.size, -1)]).astype(np.int64),
            "is_pileup": np.concatenate([particles.is_pileup[idx_p], np.zeros(n_t.size, dtype=bool)]),
            "is_noise": np.concatenate([np.zeros(r_hit.size, dtype=bool), np.ones(n_t.size, dtype=bool)]),
        })
        truth = {name: truth[name] for name in _TRUTH_ORDER}
    time_bins = np.rint(truth["time_ns"] / F1_BIN_NS).astype(np.int64)
    recorded = (truth["time_ns"] >= cfg.tdc_window_ns[0]) & (truth["time_ns"] <= cfg.tdc_window_ns[1])
    truth["recorded"] = recorded
    truth["time_bins"] = time_bins.astype(np.int32)
    # one stable sort on a combined key: event, plane, layer, tube (then generation order)
    key = ((truth["event"] * P + truth["straw_plane"]) * L + truth["layer"]) * T + truth["tube"]
    order = np.argsort(key, kind="stable")
    truth = {k: v[order] for k, v in truth.items()}

    sel = np.flatnonzero(truth["recorded"])
    e, p_, l_, t_ = truth["event"][sel], truth["straw_plane"][sel], truth["layer"][sel], truth["tube"][sel]
    trig = trigger_time[e].astype(np.int64)
    raw_time = ((trig << 7) + truth["time_bins"][sel]) & 0xFFFF
    tdc = {
        "event": e,
        "source_id": geo.source_id[p_, l_, t_],
        "port": geo.port[p_, l_, t_],
        "chip": geo.chip[p_, l_, t_],
        "channel": geo.channel[p_, l_, t_],
        "raw_time": raw_time.astype(np.int64),
        "trigger_time": trig,
    }
    return StrawHits(tdc=tdc, truth=truth)
