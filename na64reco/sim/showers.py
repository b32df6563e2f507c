"""Parameterised energy deposits of beam particles in every SADC cell (no Geant4).

Electrons/positrons: a Gamma longitudinal profile fixes the mean pre-shower fraction, a
Beta law fluctuates it; the lateral spread over the cells is a separable two-component
Laplace profile (core and halo in units of the Moliere radius) integrated over each cell;
stochastic and constant resolution terms smear the total; a small exponential leakage
reaches HCAL0. Hadrons start showering at an exponential depth (interaction lengths) and
deposit along a Gamma(2) profile, so most of their energy lands in the HCAL. Muons and
everything before a hadron's interaction point deposit Moyal-distributed MIP signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .beam import SPECIES_ELECTRON, SPECIES_HADRON, SPECIES_MUON, Particles
from .cells import KIND_SLICES, KINDS, N_CELLS, PLANE_SLICES, plane_index
from .config import SimConfig

__all__ = ["Geometry", "deposits", "preshower_mean_fraction"]

_ECAL0 = PLANE_SLICES[plane_index("ECAL0")]
_ECAL1 = PLANE_SLICES[plane_index("ECAL1")]
_HCAL = KIND_SLICES[KINDS.index("hcal")]
_VETO = PLANE_SLICES[plane_index("VETO")]
_SRD = PLANE_SLICES[plane_index("SRD")]
_COUNTERS = [PLANE_SLICES[plane_index(n)].start for n in ("S1", "S2", "S3", "S4")]
_HALO_COUNTERS = [PLANE_SLICES[plane_index(n)].start for n in ("V1", "V2")]


@dataclass(frozen=True)
class Geometry:
    """Transverse geometry the showers need (mm, detector frame as in the setup's geometry)."""

    ecal_pitch_mm: float = 38.2
    ecal_nx: int = 6
    ecal_ny: int = 6
    ecal_centre_mm: tuple[float, float] = (0.0, 0.0)
    hcal_pitch_mm: float = 194.0
    hcal_centre_mm: tuple[float, float] = (0.0, 0.0)  # HCAL central-cell centre

    def ecal_edges(self, n: int, axis: int = 0) -> np.ndarray:
        return self.ecal_centre_mm[axis] + (np.arange(n + 1) - n / 2.0) * self.ecal_pitch_mm


def _laplace_cdf(x: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    z = np.exp(-np.abs(x) / b)
    return np.where(x < 0, 0.5 * z, 1.0 - 0.5 * z)


def _cell_fractions_1d(edges: np.ndarray, centre: np.ndarray, b_core: float, b_halo: float, core: float):
    """Energy fraction of a 1-D two-component Laplace profile in each bin: (n, nbins)."""
    d = edges[None, :] - centre[:, None]
    cdf = core * _laplace_cdf(d, b_core) + (1.0 - core) * _laplace_cdf(d, b_halo)
    return np.diff(cdf, axis=1)


def _lateral(edges_x, edges_y, x, y, b_core, b_halo, core):
    fx = _cell_fractions_1d(edges_x, x, b_core, b_halo, core)
    fy = _cell_fractions_1d(edges_y, y, b_core, b_halo, core)
    return (fx[:, :, None] * fy[:, None, :]).reshape(x.size, -1)


@lru_cache(maxsize=8)
def _preshower_table(preshower_x0: float, ecal_x0: float, ec_mev: float):
    """Mean fraction of an e.m. shower in the first ``preshower_x0`` and beyond ``ecal_x0``.

    Longitudinal profile dE/dt ~ t^(a-1) e^(-b t), b = 0.5, t_max = (a-1)/b = ln(E/Ec) - 0.5.
    """
    log_e = np.linspace(np.log(100.0), np.log(1.0e6), 60)
    t = np.linspace(0.0, 3.0 * ecal_x0, 6000)
    b = 0.5
    t_max = np.maximum(log_e - np.log(ec_mev) - 0.5, 0.5)
    a = 1.0 + b * t_max
    with np.errstate(divide="ignore"):
        logpdf = (a[:, None] - 1.0) * np.log(np.where(t > 0, t, 1e-300))[None, :] - b * t[None, :]
    pdf = np.exp(logpdf - logpdf.max(axis=1, keepdims=True))
    cdf = np.cumsum(pdf, axis=1)
    cdf /= cdf[:, -1:]
    ps = np.array([np.interp(preshower_x0, t, c) for c in cdf])
    rear = np.array([1.0 - np.interp(ecal_x0, t, c) for c in cdf])
    return log_e, ps, rear


def preshower_mean_fraction(cfg: SimConfig, energy_mev: np.ndarray) -> np.ndarray:
    log_e, ps, _ = _preshower_table(cfg.preshower_x0, cfg.ecal_x0, cfg.critical_energy_mev)
    return np.interp(np.log(np.maximum(energy_mev, 100.0)), log_e, ps)


def _rear_leak_fraction(cfg: SimConfig, energy_mev: np.ndarray) -> np.ndarray:
    log_e, _, rear = _preshower_table(cfg.preshower_x0, cfg.ecal_x0, cfg.critical_energy_mev)
    return np.interp(np.log(np.maximum(energy_mev, 100.0)), log_e, rear)


def _moyal(rng: np.random.Generator, mpv: float, width: float, shape) -> np.ndarray:
    """Landau-like MIP deposits: Moyal(mpv, width * mpv) via -ln(chi2_1), clipped >= 0."""
    z = rng.standard_normal(shape)
    m = -np.log(np.maximum(z * z, 1e-12))
    return np.maximum(mpv * (1.0 + width * np.minimum(m, 30.0)), 0.0)


def _ecal_cell_of(geo: Geometry, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ix = np.floor((x - geo.ecal_centre_mm[0]) / geo.ecal_pitch_mm + geo.ecal_nx / 2.0).astype(np.int64)
    iy = np.floor((y - geo.ecal_centre_mm[1]) / geo.ecal_pitch_mm + geo.ecal_ny / 2.0).astype(np.int64)
    inside = (ix >= 0) & (ix < geo.ecal_nx) & (iy >= 0) & (iy < geo.ecal_ny)
    return np.where(inside, ix * geo.ecal_ny + iy, -1), inside


def _em_showers(rng, cfg: SimConfig, geo: Geometry, p: Particles, rows: np.ndarray, out: np.ndarray) -> None:
    n = rows.size
    e_vis = p.energy_mev[rows] - p.e_missing_mev[rows]
    e_gev = np.maximum(e_vis, 1.0) / 1000.0
    rel = np.sqrt(cfg.ecal_stochastic**2 / e_gev + cfg.ecal_constant**2)
    e_dep = np.maximum(e_vis * (1.0 + rel * rng.standard_normal(n)), 0.0)

    leak = _rear_leak_fraction(cfg, e_vis) + rng.exponential(cfg.hcal_leak_fraction, n)
    leak = np.minimum(leak, 0.5)
    e_hcal = e_dep * leak
    e_ecal = e_dep - e_hcal

    mean_ps = np.clip(preshower_mean_fraction(cfg, e_vis), 1e-4, 0.99)
    rs = max(cfg.preshower_fraction_rel_spread, 1e-3)
    kappa = np.maximum((1.0 - mean_ps) / (mean_ps * rs * rs) - 1.0, 2.0)
    f_ps = rng.beta(mean_ps * kappa, (1.0 - mean_ps) * kappa)

    x, y = p.x_mm[rows], p.y_mm[rows]
    ex, ey = geo.ecal_edges(geo.ecal_nx, 0), geo.ecal_edges(geo.ecal_ny, 1)
    rm = cfg.moliere_radius_mm
    core = cfg.lateral_core_fraction
    # the pre-shower samples the young, narrower shower
    lat_ps = _lateral(ex, ey, x, y, 0.08 * rm, 0.35 * rm, core)
    lat_main = _lateral(ex, ey, x, y, 0.14 * rm, 0.5 * rm, core)
    cells_ps = lat_ps * (e_ecal * f_ps)[:, None]
    cells_main = lat_main * (e_ecal * (1.0 - f_ps))[:, None]
    if cfg.lateral_cell_fluctuation > 0:
        for cells in (cells_ps, cells_main):
            # sig = min(f / sqrt(max(c / 1000, 1e-6)), 1); c *= max(1 + sig * z, 0), computed in one
            # buffer: the (electrons, 36) temporaries cost more than the arithmetic
            factor = cells / 1000.0
            np.maximum(factor, 1e-6, out=factor)
            np.sqrt(factor, out=factor)
            np.divide(cfg.lateral_cell_fluctuation, factor, out=factor)
            np.minimum(factor, 1.0, out=factor)
            factor *= rng.standard_normal(cells.shape, dtype=np.float32)
            factor += 1.0
            np.maximum(factor, 0.0, out=factor)
            cells *= factor
    out[rows, _ECAL0] = cells_ps
    out[rows, _ECAL1] = cells_main

    hcal0 = _hcal_lateral(cfg, geo, x, y) * e_hcal[:, None]
    out[rows, _HCAL.start : _HCAL.start + 9] = hcal0

    # charged leakage into the VETO is rare and small for electrons
    hit = rng.random(n) < cfg.veto_leak_probability
    module = rng.integers(0, 3, n)
    e_leak = rng.exponential(0.5 * cfg.mip_veto_mev, n)
    veto = np.zeros((n, 3))
    veto[np.arange(n)[hit], module[hit]] = e_leak[hit]
    _fill_veto(rng, out, rows, veto)

    srd = rng.gamma(cfg.srd_shape, 1.0, (n, 3)) * (np.asarray(cfg.srd_mev) / cfg.srd_shape)[None, :]
    out[rows, _SRD] = srd


def _hcal_lateral(cfg: SimConfig, geo: Geometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    edges = (np.arange(4) - 1.5) * geo.hcal_pitch_mm
    cx = x - geo.hcal_centre_mm[0]
    cy = y - geo.hcal_centre_mm[1]
    return _lateral(edges, edges, cx, cy, cfg.hcal_lateral_mm, 2.5 * cfg.hcal_lateral_mm, 0.85)


def _fill_veto(rng, out: np.ndarray, rows: np.ndarray, module_mev: np.ndarray) -> None:
    """Two PMTs per module read the module energy with independent light-collection gains."""
    gains = np.maximum(1.0 + 0.1 * rng.standard_normal((rows.size, 3, 2)), 0.0)
    out[rows, _VETO] = (module_mev[:, :, None] * gains).reshape(rows.size, 6)


def _central_veto_module(geo: Geometry, y: np.ndarray) -> np.ndarray:
    # three modules stacked in y, each one HCAL cell high, centred on the HCAL axis
    rel = (y - geo.hcal_centre_mm[1]) / geo.hcal_pitch_mm + 1.5
    return np.clip(np.floor(rel), 0, 2).astype(np.int64)


def _muons(rng, cfg: SimConfig, geo: Geometry, p: Particles, rows: np.ndarray, out: np.ndarray) -> None:
    n = rows.size
    x, y = p.x_mm[rows], p.y_mm[rows]
    cell, inside = _ecal_cell_of(geo, x, y)
    r = np.arange(n)
    ps = _moyal(rng, cfg.mip_ecal0_mev, cfg.mip_width, n)
    main = _moyal(rng, cfg.mip_ecal1_mev, cfg.mip_width, n)
    sub = out[rows]
    sub[r[inside], _ECAL0.start + cell[inside]] += ps[inside]
    sub[r[inside], _ECAL1.start + cell[inside]] += main[inside]
    hcell = _hcal_cell_of(geo, x, y)
    for m in range(4):
        sub[r, _HCAL.start + 9 * m + hcell] += _moyal(rng, cfg.mip_hcal_mev, cfg.mip_width, n)
    out[rows] = sub
    veto = np.zeros((n, 3))
    veto[r, _central_veto_module(geo, y)] = _moyal(rng, cfg.mip_veto_mev, cfg.mip_width, n)
    _fill_veto(rng, out, rows, veto)


def _hcal_cell_of(geo: Geometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ix = np.clip(np.floor((x - geo.hcal_centre_mm[0]) / geo.hcal_pitch_mm + 1.5), 0, 2).astype(np.int64)
    iy = np.clip(np.floor((y - geo.hcal_centre_mm[1]) / geo.hcal_pitch_mm + 1.5), 0, 2).astype(np.int64)
    return ix * 3 + iy


def _gamma2_cdf(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    u = np.maximum(t, 0.0) / tau
    return 1.0 - (1.0 + u) * np.exp(-u)


def _hadrons(rng, cfg: SimConfig, geo: Geometry, p: Particles, rows: np.ndarray, out: np.ndarray) -> None:
    n = rows.size
    r = np.arange(n)
    x, y = p.x_mm[rows], p.y_mm[rows]
    depth = rng.exponential(1.0, n)  # first interaction, in interaction lengths
    e = p.energy_mev[rows]
    e_gev = e / 1000.0
    rel = np.sqrt(cfg.hadron_stochastic**2 / e_gev + cfg.hadron_constant**2)
    e_vis = np.maximum(e * cfg.hadron_response * (1.0 + rel * rng.standard_normal(n)), 0.0)
    tau = cfg.hadron_profile_lambda * np.exp(0.2 * rng.standard_normal(n))

    bounds = [0.0, cfg.preshower_lambda, cfg.ecal_lambda]
    bounds += [cfg.ecal_lambda + (k + 1) * cfg.hcal_module_lambda for k in range(4)]
    seg = np.empty((n, 6))
    for k in range(6):
        a, b = bounds[k], bounds[k + 1]
        seg[:, k] = e_vis * (_gamma2_cdf(b - depth, tau) - _gamma2_cdf(a - depth, tau))

    sub = out[rows]
    ex, ey = geo.ecal_edges(geo.ecal_nx, 0), geo.ecal_edges(geo.ecal_ny, 1)
    lat_ecal = _lateral(ex, ey, x, y, 0.5 * cfg.moliere_radius_mm, 2.0 * cfg.moliere_radius_mm, 0.6)
    sub[:, _ECAL0] = lat_ecal * seg[:, 0:1]
    sub[:, _ECAL1] = lat_ecal * seg[:, 1:2]
    lat_hcal = _hcal_lateral(cfg, geo, x, y)
    for m in range(4):
        sub[:, _HCAL.start + 9 * m : _HCAL.start + 9 * (m + 1)] = lat_hcal * seg[:, 2 + m : 3 + m]

    # before its interaction point the hadron is a MIP
    cell, inside = _ecal_cell_of(geo, x, y)
    hcell = _hcal_cell_of(geo, x, y)
    mips = (
        (_ECAL0.start, cfg.mip_ecal0_mev, depth > bounds[1], cell, inside),
        (_ECAL1.start, cfg.mip_ecal1_mev, depth > bounds[2], cell, inside),
    )
    for start, mpv, before, c, ok in mips:
        sel = before & ok
        sub[r[sel], start + c[sel]] += _moyal(rng, mpv, cfg.mip_width, int(sel.sum()))
    for m in range(4):
        sel = depth > bounds[3 + m]
        sub[r[sel], _HCAL.start + 9 * m + hcell[sel]] += _moyal(rng, cfg.mip_hcal_mev, cfg.mip_width, int(sel.sum()))
    out[rows] = sub

    # the VETO sits between ECAL and HCAL: a MIP, or shower debris if it started in the ECAL
    veto = np.zeros((n, 3))
    central = _central_veto_module(geo, y)
    veto[r, central] = _moyal(rng, cfg.mip_veto_mev, cfg.mip_width, n)
    started = depth < cfg.ecal_lambda
    extra = rng.poisson(3.0, (n, 3)) * started[:, None]
    veto += _moyal(rng, cfg.mip_veto_mev, cfg.mip_width, (n, 3)) * extra
    _fill_veto(rng, out, rows, veto)


def deposits(rng: np.random.Generator, cfg: SimConfig, geo: Geometry, p: Particles) -> np.ndarray:
    """True energy (MeV) of every particle in every cell: (n_particles, N_CELLS) float64."""
    out = np.zeros((p.n, N_CELLS))
    em = np.flatnonzero(p.species == SPECIES_ELECTRON)
    had = np.flatnonzero(p.species == SPECIES_HADRON)
    mu = np.flatnonzero(p.species == SPECIES_MUON)
    if em.size:
        _em_showers(rng, cfg, geo, p, em, out)
    if had.size:
        _hadrons(rng, cfg, geo, p, had, out)
    if mu.size:
        _muons(rng, cfg, geo, p, mu, out)
    # every beam particle crosses the beam counters; V1/V2 see the halo only
    for c in _COUNTERS:
        out[:, c] = _moyal(rng, cfg.mip_counter_mev, cfg.mip_width, p.n)
    for c in _HALO_COUNTERS:
        hit = rng.random(p.n) < cfg.halo_probability
        out[hit, c] = _moyal(rng, cfg.mip_counter_mev, cfg.mip_width, int(hit.sum()))
    return out
