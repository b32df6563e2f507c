"""Synthetic straight tracks through staggered straw doublets, for tests and accuracy studies.

Independent of the C++ core: the tube geometry and the inverse r(t) are computed here.
"""

from __future__ import annotations

import numpy as np

from .._core import straw as _straw
from ..columns import Columns
from .config import StrawGeometry

__all__ = ["drift_time_of_radius", "straight_tracks"]


def drift_time_of_radius(rt: _straw.RtRelation, r_mm: np.ndarray, steps: int = 4001) -> np.ndarray:
    """Inverse of a (strictly increasing) r(t) by interpolation on a fine grid."""
    t = np.linspace(rt.t_min, rt.t_max, steps)
    r, _, _ = rt.radius(t)
    return np.interp(r_mm, r, t)


def straight_tracks(
    rng: np.random.Generator,
    n_events: int,
    geometry: StrawGeometry,
    rt: _straw.RtRelation,
    smear_mm: float = 0.15,
    position_sigma_mm: float = 15.0,
    slope_sigma: float = 0.002,
    efficiency: float = 1.0,
    noise_hits: float = 0.0,
    tube_radius_mm: float = 3.0,
) -> tuple[Columns, Columns]:
    """(hits, truth). hits: event, plane, layer, tube, time_ns, true_u (track u at the
    layer), sorted by event. truth per event: x0, y0, tx, ty (line at z = 0).

    The measured drift radius is the true distance smeared by smear_mm (clipped to the
    tube), turned into a time through the inverse r(t) plus the plane's t0. noise_hits is
    the mean number of random hits per event (Poisson), with random times in the window.
    """
    g = geometry.arrays()
    x0 = rng.normal(0.0, position_sigma_mm, n_events)
    y0 = rng.normal(0.0, position_sigma_mm, n_events)
    tx = rng.normal(0.0, slope_sigma, n_events)
    ty = rng.normal(0.0, slope_sigma, n_events)
    rows: list[dict[str, np.ndarray]] = []
    ev = np.arange(n_events)
    for p in range(len(geometry.planes)):
        for layer in (0, 1):
            z = g["z_mm"][p] + layer * g["layer_dz_mm"][p]
            u = np.where(g["axis"][p] == 0, x0 + tx * z, y0 + ty * z)
            base = g["u_first_mm"][p] + layer * g["layer_shift_mm"][p]
            tube = np.rint((u - base) / g["pitch_mm"][p]).astype(np.int64)
            d = np.abs(u - (base + tube * g["pitch_mm"][p]))
            ok = (tube >= 0) & (tube < g["n_tubes"][p]) & (d <= tube_radius_mm) & (rng.random(n_events) < efficiency)
            r = np.clip(d + smear_mm * rng.standard_normal(n_events), 0.0, tube_radius_mm)
            t = drift_time_of_radius(rt, r) + g["t0_ns"][p]
            rows.append({
                "event": ev[ok], "plane": np.full(ok.sum(), p), "layer": np.full(ok.sum(), layer),
                "tube": tube[ok], "time_ns": t[ok], "true_u": u[ok],
            })  # fmt: skip
    if noise_hits > 0:
        k = rng.poisson(noise_hits, n_events)
        nev = np.repeat(ev, k)
        pl = rng.integers(0, len(geometry.planes), nev.size)
        rows.append({
            "event": nev, "plane": pl, "layer": rng.integers(0, 2, nev.size),
            "tube": rng.integers(0, g["n_tubes"][pl]), "time_ns": rng.uniform(rt.t_min, rt.t_max, nev.size) + g["t0_ns"][pl],
            "true_u": np.full(nev.size, np.nan),
        })  # fmt: skip
    cat = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    order = np.argsort(cat["event"], kind="stable")
    hits = Columns(
        event=cat["event"][order].astype(np.int64),
        plane=cat["plane"][order].astype(np.int16),
        layer=cat["layer"][order].astype(np.int8),
        tube=cat["tube"][order].astype(np.int16),
        time_ns=cat["time_ns"][order],
        true_u=cat["true_u"][order],
    )
    return hits, Columns(x0=x0, y0=y0, tx=tx, ty=ty)
