"""Quiet pre-shower cells around the shower, measured at the event's time."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco.calo as calo
from na64reco.calo.quiet_cells import largest_tower
from na64reco.waveform import load_template

TEMPLATE = load_template("ecal")
T = np.arange(32) * 12.5


def _event(small_amplitude: float, t_small: float):
    """Counters at 150 ns, a 2000 ADC shower centre in ECAL1 (3, 3) and ECAL0 (3, 3), and
    the pre-shower cell (2, 3) with a small pulse the fits did not report."""
    rng = np.random.default_rng(3)
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay, mev_per_adc=5.0, time_sigma_ns=1.0)
    e0, e1 = lay.index("ECAL0"), lay.index("ECAL1")
    planes = [lay.index(s) for s in ("S1", "S2", "S3", "S4")] + [e1, e0]
    pulses = {"event": np.zeros(6, int), "plane": np.array(planes), "x": np.array([0] * 4 + [3, 3]),
              "y": np.array([0] * 4 + [3, 3]), "amplitude": np.array([100.0] * 4 + [2000.0, 300.0]),
              "time_ns": np.array([150.0] * 6)}  # fmt: skip
    quiet = 150.0 + small_amplitude * np.asarray(TEMPLATE.value(T - t_small)) + rng.normal(0.0, 1.5, 32)
    far = 150.0 + 6.0 * np.asarray(TEMPLATE.value(T - 150.0)) + rng.normal(0.0, 1.5, 32)
    digits = {"event": np.zeros(2, int), "plane": np.array([e0, e0]), "x": np.array([2, 0]), "y": np.array([3, 0]),
              "samples": np.round(np.stack([quiet, far])).astype(np.uint16), "nsamples": np.array([32, 32])}  # fmt: skip
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=20.0, quiet_templates={"ECAL0": TEMPLATE})
    return lay, calo.reconstruct_calo(pulses, 1, cal, config=cfg, digits=digits)


def test_a_quiet_pre_shower_cell_next_to_the_shower_gets_its_in_time_energy():
    lay, res = _event(8.0, 150.0)  # 40 MeV, below the fitter's lone-pulse significance
    c = lay.cell_index(np.array([lay.index("ECAL0")]), np.array([2]), np.array([3]))[0]
    assert res.e_in[0, c] == pytest.approx(40.0, abs=12.0)
    assert res.events.e_prs[0] == pytest.approx((300.0 * 5.0 + res.e_in[0, c]) / 1000.0)
    # a cell far from the shower is not measured, nor is a pulse far from the event's time
    far = lay.cell_index(np.array([lay.index("ECAL0")]), np.array([0]), np.array([0]))[0]
    assert res.e_in[0, far] == 0.0
    _, late = _event(8.0, 250.0)
    assert late.e_in[0, c] == 0.0


def test_largest_tower_adds_both_sections_and_is_minus_one_without_energy():
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay)
    e_in = np.zeros((3, lay.n_cells))
    e0, e1 = lay.cells_of("ECAL0").start, lay.cells_of("ECAL1").start
    e_in[0, e1 + 3 * 6 + 3] = 5.0
    e_in[0, e0 + 2 * 6 + 1] = 3.0
    e_in[0, e1 + 2 * 6 + 1] = 3.0  # tower (2, 1): 6 > 5
    e_in[1, e0 + 4 * 6 + 5] = 1.0
    x, y = largest_tower(e_in, cal)
    assert x.tolist() == [2, 4, -1] and y.tolist() == [1, 5, -1]
