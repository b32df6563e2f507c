"""Toy NA64 events at the level of fitted pulses and straw TDC hits, with truth.

A stand-in for the full simulator (na64reco.sim) for accuracy studies of the
reconstruction and the selection: electrons, invisible-mode signal (an electron that loses
E_miss), hadrons, and out-of-time or in-time pile-up of a second beam electron. Detector
response is deliberately simple (documented per term below); it is not a physics simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..calo.calibration import CaloCalibration
from ..calo.synthetic import cells_to_pulses, ecal_showers
from ..columns import Columns
from ..straw.config import StrawGeometry
from ..straw.synthetic import straight_tracks
from .._core import straw as _straw

__all__ = ["ToyBeam", "toy_events", "PARTICLE_ELECTRON", "PARTICLE_SIGNAL", "PARTICLE_HADRON"]

PARTICLE_ELECTRON = 0
PARTICLE_SIGNAL = 1
PARTICLE_HADRON = 2


@dataclass
class ToyBeam:
    e_beam_gev: float = 100.0
    beam_cell: tuple[int, int] = (3, 3)  # ECAL cell the beam is aimed at
    spot_sigma_mm: float = 6.0
    master_ns: float = 127.5  # beam counters' time in the readout window (others follow their delays)
    pileup_window_ns: tuple[float, float] = (-150.0, 220.0)
    stochastic: float = 0.09  # intrinsic ECAL resolution a/sqrt(E) (+) b
    constant: float = 0.01
    time_sigma_ns: float = 1.0
    noise_adc: float = 1.5  # amplitude noise of the fitted pulses
    threshold_adc: float = 4.0  # the fit reports pulses above this amplitude only
    straw_smear_mm: float = 0.15


def _cell_maps(cal: CaloCalibration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lay = cal.layout
    plane = np.repeat(np.arange(len(lay.planes)), [nx * ny for _, nx, ny in lay.planes])
    local = np.arange(lay.n_cells) - lay.begin[plane]
    ny = np.array([p[2] for p in lay.planes])[plane]
    return plane, local // ny, local % ny


def _particle_deposits(
    rng: np.random.Generator, cal: CaloCalibration, beam: ToyBeam, particle: np.ndarray, e_miss: np.ndarray,
    x: np.ndarray, y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(deposits (n, n_cells) MeV, ECAL visible MeV, HCAL MeV) of one particle per event."""
    lay = cal.layout
    n = particle.size
    dep = np.zeros((n, lay.n_cells))
    e_beam = beam.e_beam_gev * 1000.0
    ecal_e = np.where(particle == PARTICLE_SIGNAL, e_beam - e_miss, e_beam)
    hadron = particle == PARTICLE_HADRON
    # hadrons: 70% cross the ECAL as a MIP (~0.3 GeV), else a partial shower; the rest in HCAL
    mip = hadron & (rng.random(n) < 0.7)
    frac = np.where(mip, 0.003 * rng.gamma(9.0, 1 / 9.0, n), rng.uniform(0.05, 0.6, n))
    ecal_e = np.where(hadron, e_beam * frac, ecal_e)
    showers, visible = ecal_showers(rng, ecal_e, x, y, stochastic=beam.stochastic, constant=beam.constant)
    # signal: the pre-shower sees the electron before the A' emission, ~1.5 GeV on average
    signal = particle == PARTICLE_SIGNAL
    if signal.any():
        tower = showers[signal].sum(axis=1)
        prs_e = np.minimum(rng.gamma(4.0, 1500.0 / 4.0, signal.sum()), 0.9 * visible[signal])
        share = prs_e / np.maximum(tower.sum(axis=(1, 2)), 1e-9)
        showers[signal, 0] = tower * share[:, None, None]
        showers[signal, 1] = tower * (1.0 - share[:, None, None])
    ecal = lay.cells_of("ECAL0").start
    dep[:, ecal : ecal + showers[0].size] = showers.reshape(n, -1)
    hcal_planes = lay.hcal_planes()
    e_hcal = np.where(hadron, 0.8 * (e_beam - ecal_e) * rng.uniform(0.8, 1.0, n), rng.exponential(20.0, n))
    if hcal_planes:
        # longitudinal: 70% module 0, 25% module 1, 5% module 2; laterally 80% in the centre
        nx, ny = lay.shape(hcal_planes[0])
        cells = nx * ny
        lateral = np.full(cells, 0.2 / max(cells - 1, 1))
        lateral[(nx // 2) * ny + ny // 2] = 0.8
        for m, f in zip(range(len(hcal_planes)), (0.7, 0.25, 0.05, 0.0)):
            s = lay.cells_of(hcal_planes[m])
            dep[:, s] = (e_hcal * f)[:, None] * lateral[None, :]
    # SRD: synchrotron photons of electrons only, a few MeV to tens of MeV per module
    srd = lay.cells_of("SRD")
    n_srd = srd.stop - srd.start
    srd_e = np.where(hadron[:, None], rng.exponential(0.05, (n, n_srd)), rng.gamma(2.0, 7.5, (n, n_srd)))
    dep[:, srd] = srd_e
    # VETO: hadrons leak charged particles (30%), a MIP of ~10 MeV seen by both PMTs of a module
    veto = lay.cells_of("VETO")
    hit = hadron & (rng.random(n) < 0.3)
    module = rng.integers(0, (veto.stop - veto.start) // 2, n)
    for pmt in (0, 1):
        col = veto.start + 2 * module + pmt
        dep[hit, col[hit]] = rng.gamma(8.0, 10.0 / 8.0, hit.sum())
    for name in lay.counters:
        if name in [p[0] for p in lay.planes]:
            dep[:, lay.cells_of(name).start] = rng.gamma(8.0, 5.0 / 8.0, n)
    return dep, visible, e_hcal


def toy_events(
    rng: np.random.Generator,
    n: int,
    calibration: CaloCalibration,
    geometry: StrawGeometry,
    rt: _straw.RtRelation,
    particle: int | np.ndarray = PARTICLE_ELECTRON,
    e_miss_gev: tuple[float, float] = (60.0, 95.0),
    pileup_probability: float = 0.0,
    in_time_pileup: bool = False,
    beam: ToyBeam | None = None,
    missing_plane_probability: float = 0.0,
) -> tuple[Columns, Columns, Columns, np.ndarray]:
    """(pulses, straw hits, truth, present) for n events.

    pulses: event, plane, x, y, amplitude (ADC), time_ns — what the waveform fit reports.
    truth: particle, e_beam, e_missing, e_ecal_true, e_hcal_true, n_pileup, pileup_dt_ns,
    impact_x, impact_y, and for pile-up the second electron's impact (GeV, mm, ns).
    present: (n, n_planes) bool; planes dropped at random with missing_plane_probability.
    in_time_pileup: the second electron arrives within +-1 ns, at least two cells away.
    """
    beam = beam or ToyBeam()
    lay = calibration.layout
    kinds = np.broadcast_to(np.asarray(particle), (n,)).astype(np.int64)
    pitch = lay.ecal_pitch_mm
    nx, ny = lay.shape("ECAL0")
    cx = (beam.beam_cell[0] - 0.5 * (nx - 1)) * pitch
    cy = (beam.beam_cell[1] - 0.5 * (ny - 1)) * pitch
    x = cx + beam.spot_sigma_mm * rng.standard_normal(n)
    y = cy + beam.spot_sigma_mm * rng.standard_normal(n)
    e_miss = np.where(kinds == PARTICLE_SIGNAL, rng.uniform(*e_miss_gev, n) * 1000.0, 0.0)
    dep, visible, e_hcal = _particle_deposits(rng, calibration, beam, kinds, e_miss, x, y)
    master = beam.master_ns + 0.3 * rng.standard_normal(n)
    plane, cxx, cyy = _cell_maps(calibration)
    led = calibration.led_run
    scale = calibration.mev_per_adc * led
    readout = dict(noise_adc=beam.noise_adc, threshold_adc=beam.threshold_adc,
                   cell_offset_ns=calibration.time_mean_ns)
    parts = [cells_to_pulses(rng, dep, plane, cxx, cyy, scale, master, beam.time_sigma_ns, **readout)]

    has_pu = rng.random(n) < pileup_probability
    dt = np.where(has_pu, rng.uniform(*beam.pileup_window_ns, n), np.nan)
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    if in_time_pileup:
        dt = np.where(has_pu, rng.uniform(-1.0, 1.0, n), np.nan)
    idx = np.flatnonzero(has_pu)
    if idx.size:
        if in_time_pileup:
            # a second shower at least two cells from the first, inside the ECAL
            ang = rng.uniform(0, 2 * np.pi, idx.size)
            dist = rng.uniform(2.2, 3.0, idx.size) * pitch
            px[idx] = np.clip(x[idx] + dist * np.cos(ang), -2.3 * pitch, 2.3 * pitch)
            py[idx] = np.clip(y[idx] + dist * np.sin(ang), -2.3 * pitch, 2.3 * pitch)
        else:
            px[idx] = cx + beam.spot_sigma_mm * rng.standard_normal(idx.size)
            py[idx] = cy + beam.spot_sigma_mm * rng.standard_normal(idx.size)
        pu_kind = np.full(idx.size, PARTICLE_ELECTRON)
        pu_dep, _, _ = _particle_deposits(rng, calibration, beam, pu_kind, np.zeros(idx.size), px[idx], py[idx])
        if in_time_pileup:  # the trigger counters saw one particle: keep only its calorimeter part
            for name in lay.counters:
                if name in [p[0] for p in lay.planes]:
                    pu_dep[:, lay.cells_of(name).start] = 0.0
        part = cells_to_pulses(rng, pu_dep, plane, cxx, cyy, scale, master[idx] + dt[idx], beam.time_sigma_ns,
                               **readout)
        part["event"] = idx[part["event"]]
        parts.append(part)
    pulses = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(pulses["event"], kind="stable")
    pulses_c = Columns({k: v[order] for k, v in pulses.items()})

    # straws: the trigger particle's track, aimed at its ECAL impact, plus pile-up tracks
    # inside the drift window
    hits, truth_tracks = straight_tracks(rng, n, geometry, rt, smear_mm=beam.straw_smear_mm, slope_sigma=0.0,
                                         position_sigma_mm=0.0)
    g = geometry.arrays()
    u_shift = np.where(g["axis"][hits.plane] == 0, x[hits.event], y[hits.event])
    hit_parts = [_retube(hits, geometry, rt, u_shift)]
    pu_straw = np.flatnonzero(has_pu & (np.abs(np.nan_to_num(dt, nan=1e9)) < rt.t_max))
    if pu_straw.size:
        h2, _ = straight_tracks(rng, pu_straw.size, geometry, rt, smear_mm=beam.straw_smear_mm, slope_sigma=0.0,
                                position_sigma_mm=0.0)
        ev = pu_straw[h2.event]
        shift = np.where(g["axis"][h2.plane] == 0, px[ev], py[ev])
        moved = _retube(h2, geometry, rt, shift)
        hit_parts.append({**moved, "event": ev, "time_ns": moved["time_ns"] + dt[ev]})
    straw = {k: np.concatenate([h[k] for h in hit_parts]) for k in hit_parts[0]}
    order = np.argsort(straw["event"], kind="stable")
    straw_c = Columns({k: v[order] for k, v in straw.items()})

    present = np.ones((n, len(lay.planes)), dtype=bool)
    if missing_plane_probability > 0:
        present &= rng.random(present.shape) >= missing_plane_probability
        keep = present[pulses_c.event, pulses_c.plane]
        pulses_c = pulses_c.take(keep)
    truth = Columns(
        particle=kinds,
        e_beam=np.full(n, beam.e_beam_gev),
        e_missing=e_miss / 1000.0,
        e_ecal_true=visible / 1000.0,
        e_hcal_true=e_hcal / 1000.0,
        n_pileup=has_pu.astype(np.int32),
        pileup_dt_ns=dt,
        impact_x=x,
        impact_y=y,
        pileup_x=px,
        pileup_y=py,
    )
    del truth_tracks
    return pulses_c, straw_c, truth, present


def _retube(hits: Columns, geometry: StrawGeometry, rt: _straw.RtRelation, shift: np.ndarray) -> dict[str, np.ndarray]:
    """Moves tracks generated at u = 0 to u = shift: new tube and drift time per hit."""
    from ..straw.synthetic import drift_time_of_radius

    g = geometry.arrays()
    p = hits.plane.astype(np.int64)
    layer = hits.layer.astype(np.int64)
    true_u = hits.true_u + shift
    base = g["u_first_mm"][p] + layer * g["layer_shift_mm"][p]
    tube = np.rint((true_u - base) / g["pitch_mm"][p]).astype(np.int64)
    d = np.abs(true_u - (base + tube * g["pitch_mm"][p]))
    # keep the smearing drawn for the original hit: measured minus true radius
    r0 = rt.radius(hits.time_ns - g["t0_ns"][p])[0]
    u0_centre = base + np.rint((hits.true_u - base) / g["pitch_mm"][p]) * g["pitch_mm"][p]
    smear = r0 - np.abs(hits.true_u - u0_centre)
    r = np.clip(d + smear, 0.0, 3.0)
    return {
        "event": hits.event.astype(np.int64),
        "plane": hits.plane,
        "layer": hits.layer,
        "tube": tube.astype(np.int16),
        "time_ns": drift_time_of_radius(rt, r) + g["t0_ns"][p],
        "true_u": true_u,
    }
