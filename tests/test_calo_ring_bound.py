"""Doubtful ECAL cells bounded by their ring of eight neighbours."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco.calo as calo
from na64reco.calo.ring_bound import RingBoundConfig, crowded_cells, measured_ring, ring_bound

LAY = calo.CaloLayout()
ECAL1 = LAY.cells_of("ECAL1")
NY = LAY.shape("ECAL1")[1]


def _cell(x: int, y: int, plane: str = "ECAL1") -> int:
    return LAY.cells_of(plane).start + x * NY + y


def test_the_ring_bounds_the_cell_where_it_is_clear():
    e_in = np.zeros((3, LAY.n_cells))
    for ev in range(3):
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)):
            e_in[ev, _cell(3 + dx, 3 + dy)] = 1000.0  # 5 GeV in the ring
    crowded = np.zeros_like(e_in, dtype=bool)
    crowded[1, _cell(2, 2)] = True  # a corner of event 1's ring has a pulse near the in-time one
    event = np.array([0, 1, 2, 2])
    cell = np.array([_cell(3, 3), _cell(3, 3), _cell(0, 0), _cell(3, 3, "ECAL0")])
    b = ring_bound(event, cell, e_in, crowded, LAY, RingBoundConfig(factor=8.0))
    assert b[0] == 8.0 * 5000.0
    assert np.isinf(b[1])  # crowded ring
    assert np.isinf(b[2])  # a corner cell whose three neighbours hold nothing in time
    assert np.isinf(b[3])  # the pre-shower is not bounded this way
    assert np.isinf(ring_bound(event, cell, e_in, crowded, LAY, RingBoundConfig(factor=0.0))).all()
    # at the plane's edge the neighbours that exist count
    e_in[0, _cell(0, 1)] = 300.0
    assert ring_bound(np.array([0]), np.array([_cell(0, 0)]), e_in, crowded, LAY, RingBoundConfig())[0] == 2400.0


def test_crowded_cells_are_those_with_a_pulse_near_but_not_in_time():
    cfg = RingBoundConfig(clear_ns=20.0, clear_mev=500.0)
    event = np.array([0, 0, 0, 0, 1])
    cell = np.array([5, 6, 7, 8, 5])
    energy = np.array([1000.0, 1000.0, 1000.0, 400.0, 1000.0])
    dt = np.array([2.0, 12.0, 25.0, 12.0, -19.0])  # in time, near, far, near but small, near
    crowded = crowded_cells(event, cell, energy, dt, np.full(5, 3.0), 2, 10, cfg)
    assert np.flatnonzero(crowded[0]).tolist() == [6]
    assert np.flatnonzero(crowded[1]).tolist() == [5]


def test_a_ring_cell_the_fits_missed_is_measured_from_its_samples():
    from na64reco.waveform import load_template

    tpl = load_template("ecal")
    cal = calo.CaloCalibration.uniform(LAY, mev_per_adc=25.0, time_sigma_ns=1.0)  # time_mean 0
    master = np.array([150.0])
    t = np.arange(32) * 12.5
    # the ring cell (3, 4) holds a 120 ADC pulse at the event's time that no fit reported
    samples = np.where(np.arange(32) % 2 == 0, 150.0, 153.0) + 120.0 * np.asarray(tpl.value(t - 150.0))
    digits = {"event": np.array([0]), "plane": np.array([LAY.index("ECAL1")]), "x": np.array([3]),
              "y": np.array([4]), "samples": np.round(samples)[None].astype(np.uint16), "nsamples": np.array([32])}  # fmt: skip
    doubtful_event, doubtful_cell = np.array([0]), np.array([_cell(3, 3)])
    measured = measured_ring(doubtful_event, doubtful_cell, master, np.array([-1]), cal, digits, {"ECAL1": tpl},
                             RingBoundConfig())  # fmt: skip
    keys, energy = measured  # (event * n_cells + cell, MeV) of the cells measured

    def measured_at(cell):
        hit = np.flatnonzero(keys == cell)  # event 0
        return energy[hit[0]] if hit.size else np.nan

    assert measured_at(_cell(3, 4)) == pytest.approx(120.0 * 25.0, rel=0.02)
    assert np.isnan(measured_at(_cell(2, 3)))  # no digit: nothing measured
    e_in = np.zeros((1, LAY.n_cells))
    e_in[0, _cell(2, 3)] = 1000.0
    crowded = np.zeros_like(e_in, dtype=bool)
    fitted_only = ring_bound(doubtful_event, doubtful_cell, e_in, crowded, LAY, RingBoundConfig())
    both = ring_bound(doubtful_event, doubtful_cell, e_in, crowded, LAY, RingBoundConfig(), measured)
    assert fitted_only[0] == 8000.0
    assert both[0] == pytest.approx(8.0 * (1000.0 + measured_at(_cell(3, 4))))
