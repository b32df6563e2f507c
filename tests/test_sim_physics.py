"""The parameterised physics: showers, MIPs, composition and the invisible-signal spectra."""

import numpy as np
import pytest

from na64reco.sim import SimConfig
from na64reco.sim.beam import SPECIES_ELECTRON, SPECIES_HADRON, SPECIES_MUON, draw_particles, signal_missing_energy
from na64reco.sim.cells import PLANE_SLICES, plane_index
from na64reco.sim.showers import Geometry, deposits, preshower_mean_fraction

N = 6000


def _sum(dep, *names):
    return sum(dep[:, PLANE_SLICES[plane_index(n)]].sum(axis=1) for n in names)


def _run(**changes):
    cfg = SimConfig(**changes).validate()
    rng = np.random.default_rng(3)
    p = draw_particles(rng, cfg, np.arange(N), np.zeros(N), is_pileup=False)
    return cfg, p, deposits(rng, cfg, Geometry(), p)


def test_electron_showers_contain_the_energy_with_the_configured_resolution():
    cfg, p, dep = _run(beam_energy_spread=0.0, beam_x_mm=19.1, beam_y_mm=19.1, beam_spot_mm=0.5,
                       hadron_fraction=0.0, muon_fraction=0.0)
    e = _sum(dep, "ECAL0", "ECAL1") + _sum(dep, "HCAL0", "HCAL1", "HCAL2", "HCAL3")
    ratio = e / p.energy_mev
    assert abs(ratio.mean() - 1.0) < 0.01
    expected = np.hypot(cfg.ecal_stochastic / np.sqrt(100.0), cfg.ecal_constant)
    assert 0.95 * expected < ratio.std() < 1.2 * expected  # plus small cell-by-cell fluctuations
    ps = _sum(dep, "ECAL0") / _sum(dep, "ECAL0", "ECAL1")
    assert abs(ps.mean() / preshower_mean_fraction(cfg, np.array([100e3]))[0] - 1) < 0.05
    assert 0.3 < ps.std() / ps.mean() < 0.7  # fluctuating split, rel. spread ~0.5
    main = dep[:, PLANE_SLICES[plane_index("ECAL1")]]
    central = main[:, 3 * 6 + 3] / main.sum(axis=1)
    assert 0.7 < central.mean() < 0.9  # Moliere-radius-like spread over 38.2 mm cells
    assert np.all(main.argmax(axis=1) == 3 * 6 + 3)
    assert _sum(dep, "HCAL0").mean() / 100e3 < 0.01  # small leakage
    assert np.all(_sum(dep, "HCAL1", "HCAL2", "HCAL3") == 0)
    assert np.all(_sum(dep, "SRD") > 0)
    assert (_sum(dep, "VETO") > 0).mean() == pytest.approx(cfg.veto_leak_probability, abs=0.005)


def test_impact_point_moves_the_shower():
    _, p, dep = _run(beam_x_mm=-19.1, beam_y_mm=57.3, beam_spot_mm=0.5, hadron_fraction=0.0, muon_fraction=0.0)
    main = dep[:, PLANE_SLICES[plane_index("ECAL1")]]
    assert np.all(main.argmax(axis=1) == 2 * 6 + 4)


def test_hadrons_shower_mostly_in_the_hcal_and_muons_are_mips():
    cfg, p, dep = _run(hadron_fraction=0.5, muon_fraction=0.5)
    had = p.species == SPECIES_HADRON
    mu = p.species == SPECIES_MUON
    assert had.sum() > 2500 and mu.sum() > 2500 and np.all(p.species != SPECIES_ELECTRON)
    assert set(np.unique(p.pdg[had])) == {-211} and set(np.unique(p.pdg[mu])) == {13}
    hcal = _sum(dep, "HCAL0", "HCAL1", "HCAL2", "HCAL3")
    ecal = _sum(dep, "ECAL0", "ECAL1")
    assert np.median(hcal[had]) > 2 * np.median(ecal[had])
    assert 0.6 < np.mean((ecal + hcal)[had]) / 100e3 / cfg.hadron_response < 1.05
    mip_ecal = cfg.mip_ecal0_mev + cfg.mip_ecal1_mev
    assert abs(np.median(ecal[mu]) / mip_ecal - 1.1) < 0.15  # Moyal: median above the MPV
    assert abs(np.median(hcal[mu]) / (4 * cfg.mip_hcal_mev) - 1.1) < 0.15
    assert np.all(_sum(dep, "SRD")[had | mu] == 0)  # no synchrotron light from heavy particles
    assert np.all(_sum(dep, "VETO")[mu] > 0)  # charged particles leave the ECAL


def test_beam_counters_see_every_particle_and_halo_counters_rarely():
    cfg, p, dep = _run(halo_probability=0.05)
    for name in ("S1", "S2", "S3", "S4"):
        assert np.all(_sum(dep, name) > 0.5 * cfg.mip_counter_mev)
    for name in ("V1", "V2"):
        assert (_sum(dep, name) > 0).mean() == pytest.approx(0.05, abs=0.01)


def test_positron_beam_has_positive_pions():
    _, p, _ = _run(beam_particle="e+", hadron_fraction=0.3)
    assert set(np.unique(p.pdg).tolist()) <= {-11, 211, -13}
    assert (p.pdg == 211).mean() == pytest.approx(0.3, abs=0.03)


def test_signal_spectra():
    rng = np.random.default_rng(5)
    e = np.full(20000, 100e3)
    uni = signal_missing_energy(rng, SimConfig(signal_spectrum="uniform", signal_x_min=0.5, signal_x_max=0.9), e)
    assert uni.min() >= 0.5 * 100e3 and uni.max() <= 0.9 * 100e3
    assert uni.mean() == pytest.approx(0.7 * 100e3, rel=0.01)
    cfg = SimConfig(beam_particle="e+", signal_spectrum="resonance", signal_mass_mev=225.0, resonance_width=0.01)
    res = signal_missing_energy(rng, cfg, e)
    assert res.mean() == pytest.approx(225.0**2 / (2 * 0.51099895), rel=0.001)
    assert res.std() / res.mean() == pytest.approx(0.01, rel=0.05)
    brems = signal_missing_energy(rng, SimConfig(signal_spectrum="brems", signal_mass_mev=16.7), e) / 100e3
    assert brems.min() > 0 and brems.max() <= 1
    assert np.median(brems) > 0.5  # a heavy A' takes most of the energy
    heavier = signal_missing_energy(rng, SimConfig(signal_spectrum="brems", signal_mass_mev=100.0), e) / 100e3
    assert np.median(heavier) > np.median(brems)


def test_signal_events_show_the_missing_energy_in_the_ecal():
    _, p, dep = _run(signal_fraction=0.5, signal_spectrum="uniform", signal_x_min=0.6, signal_x_max=0.6,
                     hadron_fraction=0.0, muon_fraction=0.0)
    ecal = _sum(dep, "ECAL0", "ECAL1")
    assert p.is_signal.mean() == pytest.approx(0.5, abs=0.03)
    assert np.allclose(p.e_missing_mev[p.is_signal], 0.6 * p.energy_mev[p.is_signal])
    assert np.median(ecal[p.is_signal] / p.energy_mev[p.is_signal]) == pytest.approx(0.4, abs=0.02)
    assert np.median(ecal[~p.is_signal] / p.energy_mev[~p.is_signal]) == pytest.approx(1.0, abs=0.02)
