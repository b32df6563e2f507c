"""ECAL clustering against showers generated with a known lateral profile."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from na64reco._core import calo as core
from na64reco.calo.synthetic import ecal_showers, profile_cell_fractions

PITCH = 38.2


def test_profile_matches_independent_numpy_integral_and_normalises():
    cfg = core.ClusterConfig()
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-90, 90, 200), rng.uniform(-90, 90, 200)
    oracle = profile_cell_fractions(x, y)
    centres = (np.arange(6) - 2.5) * PITCH
    gx, gy = np.meshgrid(centres, centres, indexing="ij")
    for k in range(x.size):
        got = cfg.profile.cell_fractions((gx - x[k]).ravel(), (gy - y[k]).ravel(), PITCH).reshape(6, 6)
        np.testing.assert_allclose(got, oracle[k], atol=1e-8)
    assert cfg.profile.fraction(-1e9, 1e9, -1e9, 1e9) == pytest.approx(1.0, abs=1e-7)
    with pytest.raises(ValueError, match="weights sum to 0.9"):
        core.ShowerProfile([0.5, 0.4], [5.0, 20.0])
    with pytest.raises(ValueError, match="same number"):
        core.ShowerProfile([1.0], [5.0, 20.0])


def test_single_showers_position_and_energy():
    rng = np.random.default_rng(4)
    n = 2000
    x, y = rng.uniform(-40, 40, n), rng.uniform(-40, 40, n)
    cells, visible = ecal_showers(rng, np.full(n, 100e3), x, y)
    out = core.cluster_grid(cells, core.ClusterConfig())
    assert np.array_equal(out["event"], np.arange(n))  # exactly one cluster per shower
    assert np.allclose(out["energy"], visible, rtol=1e-3)  # everything above threshold
    assert np.allclose(out["e_first_section"], cells[:, 0].sum(axis=(1, 2)), rtol=1e-2)
    dx, dy = out["x"] - x, out["y"] - y
    assert np.std(dx) < 3.0 and np.std(dy) < 3.0 and abs(np.mean(dx)) < 0.5
    assert np.median(out["chi2"] / out["ndf"]) < 3.0


def test_two_showers_are_split_with_profile_sharing():
    rng = np.random.default_rng(5)
    n = 300
    x1, y1 = rng.uniform(-65, -45, n), rng.uniform(-20, 20, n)
    x2, y2 = x1 + rng.uniform(95, 110, n), y1 + rng.uniform(-10, 10, n)
    e1, e2 = rng.uniform(30e3, 70e3, n), rng.uniform(10e3, 50e3, n)
    a, va = ecal_showers(rng, e1, x1, y1)
    b, vb = ecal_showers(rng, e2, x2, y2)
    out = core.cluster_grid(a + b, core.ClusterConfig())
    counts = np.bincount(out["event"], minlength=n)
    assert np.mean(counts == 2) > 0.98
    ok = np.flatnonzero(counts == 2)
    start = np.searchsorted(out["event"], ok)
    left = np.where(out["x"][start] < out["x"][start + 1], start, start + 1)
    right = np.where(left == start, start + 1, start)
    assert np.median(np.abs(out["energy"][left] / va[ok] - 1)) < 0.02
    assert np.median(np.abs(out["energy"][right] / vb[ok] - 1)) < 0.03
    assert np.median(np.abs(out["x"][left] - x1[ok])) < 3.0
    assert np.median(np.abs(out["x"][right] - x2[ok])) < 3.0
    assert np.all(out["iterations"][start] >= 2)


def test_hadron_like_flat_deposit_has_large_shower_chi2():
    flat = np.zeros((1, 2, 6, 6))
    flat[0, 1, 2:5, 2:5] = 5000.0
    flat[0, 1, 3, 3] = 6000.0
    rng = np.random.default_rng(1)
    em, _ = ecal_showers(rng, np.array([45e3]), np.array([19.1]), np.array([19.1]))
    chi_flat = core.cluster_grid(flat, core.ClusterConfig())
    chi_em = core.cluster_grid(em, core.ClusterConfig())
    assert chi_flat["chi2"][0] / chi_flat["ndf"][0] > 20 * chi_em["chi2"][0] / chi_em["ndf"][0]


def test_empty_and_non_finite_cells():
    e = np.zeros((3, 2, 6, 6))
    e[1, 1, 0, 0] = np.nan
    e[2, 1, 5, 5] = 1000.0
    e[2, 0, 5, 5] = np.inf
    out = core.cluster_grid(e, core.ClusterConfig())
    assert out["event"].tolist() == [2] and out["energy"][0] == 1000.0


def test_bad_grids_and_configs_raise_value_errors():
    with pytest.raises(ValueError, match="expected at most 16 per side"):
        core.cluster_grid(np.zeros((1, 1, 20, 2)), core.ClusterConfig())
    with pytest.raises(ValueError, match="n_events, sections, nx, ny"):
        core.cluster_grid(np.zeros((1, 6, 6)), core.ClusterConfig())
    cfg = core.ClusterConfig()
    cfg.seed_threshold_mev = 1.0
    with pytest.raises(ValueError, match="expected 0 <= cell <= seed"):
        core.cluster_grid(np.zeros((1, 2, 6, 6)), cfg)


@given(
    hnp.arrays(np.float64, (2, 5, 4), elements=st.floats(0, 5e4, allow_nan=False)),
)
def test_sharing_conserves_the_energy_of_seeded_regions(cells):
    """Whatever the deposit, cluster energies add up to the towers in seeded regions."""
    cfg = core.ClusterConfig()
    out = core.cluster_grid(cells[None], cfg)
    tower = cells.sum(axis=0)
    assert np.all(out["energy"] >= 0)
    total = out["energy"].sum()
    above = tower[tower > cfg.cell_threshold_mev].sum()
    assert total <= above * (1 + 1e-9) + 1e-6
    if tower.max() >= cfg.seed_threshold_mev:
        assert out["energy"].size >= 1
    # the cluster x, y stay inside the grid
    assert np.all(np.abs(out["x"]) <= 2.5 * PITCH + 1e-9) and np.all(np.abs(out["y"]) <= 2.0 * PITCH + 1e-9)


def test_event_variables_against_numpy():
    rng = np.random.default_rng(9)
    lay = core.CaloLayout()
    lay.n_cells = 123
    n = 500
    e_in = rng.exponential(50.0, (n, 123))
    e_near = rng.exponential(5.0, (n, 123))
    e_out = rng.exponential(5.0, (n, 123))
    v = core.event_variables(e_in, e_near, e_out, lay, 0.3)
    ecal = e_in[:, :72].reshape(n, 2, 6, 6)
    tower = ecal.sum(axis=1).reshape(n, 36)
    assert np.allclose(v["e_ecal"], ecal.sum(axis=(1, 2, 3)))
    assert np.allclose(v["e_prs"], ecal[:, 0].sum(axis=(1, 2)))
    imax = tower.argmax(axis=1)
    assert np.array_equal(v["max_x"], imax // 6) and np.array_equal(v["max_y"], imax % 6)
    t = tower.reshape(n, 6, 6)
    for k in range(n):
        bx, by = divmod(imax[k], 6)
        assert v["e_ecal_3x3"][k] == pytest.approx(t[k, max(bx - 1, 0) : bx + 2, max(by - 1, 0) : by + 2].sum())
    hcal = e_in[:, 72:108].reshape(n, 4, 3, 3)
    assert np.allclose(v["hcal_module"], hcal.sum(axis=(2, 3)))
    e_h = hcal.sum(axis=(1, 2, 3))
    assert np.allclose(v["hcal_r"], (e_h - hcal[:, :, 1, 1].sum(axis=1)) / e_h)
    a, b = e_in[:, 108:114:2], e_in[:, 109:114:2]
    expect = np.where(np.minimum(a, b) < 0.3 * np.maximum(a, b), np.maximum(a, b), np.sqrt(a * b))
    assert np.allclose(v["veto_module"], expect)
    assert np.allclose(v["srd_module"], e_in[:, 114:117])
    assert np.allclose(v["e_bad_ecal"], e_near[:, :72].sum(axis=1))
    assert np.allclose(v["e_pileup_hcal"], e_out[:, 72:108].sum(axis=1))
    centres = (np.arange(6) - 2.5) * PITCH
    assert np.allclose(v["cog_x"], (t.sum(axis=2) * centres).sum(axis=1) / t.sum(axis=(1, 2)))


def test_veto_rule():
    assert core.veto_module_energy(4.0, 9.0, 0.3) == pytest.approx(6.0)
    assert core.veto_module_energy(1.0, 10.0, 0.3) == 10.0  # one PMT below 0.3x the other
    assert core.veto_module_energy(0.0, 0.0, 0.3) == 0.0


def test_layout_errors():
    lay = core.CaloLayout()
    lay.n_cells = 100
    with pytest.raises(ValueError, match="HCAL occupies cells 72..107, outside the 100 cells"):
        lay.validate()
