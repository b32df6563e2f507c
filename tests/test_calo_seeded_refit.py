"""Doubtful ECAL fits measured again from the pulse times of the neighbouring cells."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco as nr
import na64reco.calo as calo
from na64reco.calo.fit_bounds import suspect_table, template_peak_floor
from na64reco.calo.ring_bound import RingBoundConfig
from na64reco.calo.seeded_refit import SeededPlane, seed_times
from na64reco.waveform import load_template

TEMPLATE = load_template("ecal")
T = np.arange(32) * 12.5
FITTER = nr.WaveformFitter(TEMPLATE, noise_rms=1.5, pre_window_ns=0.0, post_window_ns=50.0)


def _samples(pulses, rng):
    s = np.where(np.arange(32) % 2 == 0, 150.0, 153.0) + rng.normal(0.0, 1.5, 32)
    for amp, t in pulses:
        s += amp * np.asarray(TEMPLATE.value(T - t))
    return np.minimum(np.round(s), 4095.0)


def _event(t_pile: float, a_in: float, seeded: bool, ring: bool = False):
    """One event: counters at 150 ns, a central ECAL1 cell with an in-time pulse of a_in ADC
    and a clipped pile-up pulse at t_pile (its free fit doubtful), and the four neighbours
    with clean pulses of both particles (ring: the ring bound on; off, the seeded refit and
    the model-free bound are what bound the cell)."""
    rng = np.random.default_rng(7)
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay, mev_per_adc=25.0, time_sigma_ns=1.0)
    plane = SeededPlane(FITTER, ("ECAL0", "ECAL1"))
    fitters = {"ECAL0": plane, "ECAL1": plane} if seeded else {}
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=20.0, seeded_fitters=fitters,
                          ring=RingBoundConfig() if ring else RingBoundConfig(factor=0.0))  # fmt: skip
    ecal1 = lay.index("ECAL1")
    counters = [lay.index(s) for s in ("S1", "S2", "S3", "S4")]
    neighbours = [(2, 3), (4, 3), (3, 2), (3, 4)]
    plane = counters + [ecal1] * 8 + [ecal1]
    x = [0] * 4 + [i for i, _ in neighbours for _ in (0, 1)] + [3]
    y = [0] * 4 + [j for _, j in neighbours for _ in (0, 1)] + [3]
    amp = [100.0] * 4 + [0.03 * a_in, 150.0] * 4 + [0.5 * a_in]  # the central cell's free fit: far off
    time = [150.0] * 4 + [150.0, t_pile] * 4 + [150.0]
    pulses = {"event": np.zeros(len(plane), int), "plane": np.array(plane), "x": np.array(x), "y": np.array(y),
              "amplitude": np.array(amp), "time_ns": np.array(time)}  # fmt: skip
    samples = _samples([(a_in, 150.0), (5500.0, t_pile)], rng)
    digits = {"event": np.zeros(1, int), "plane": np.array([ecal1]), "x": np.array([3]), "y": np.array([3]),
              "samples": samples[None].astype(np.uint16), "nsamples": np.array([32])}  # fmt: skip
    sus = suspect_table(digits, np.array([0]), np.array([True]), template_peak_floor(TEMPLATE))
    failed = np.zeros((1, len(lay.planes)), bool)
    failed[0, ecal1] = True
    return calo.reconstruct_calo(pulses, 1, cal, config=cfg, failed=failed, suspects=sus), samples


@pytest.mark.parametrize("t_pile", [105.0, 195.0])
def test_a_clipped_central_cell_gets_its_in_time_energy_back(t_pile):
    a_in = 800.0  # 20 GeV of a signal electron, next to a clipped 100+ GeV pile-up electron
    res, samples = _event(t_pile, a_in, seeded=True)
    assert (samples >= 4095).any()
    e_central = res.e_in[0, calo.CaloLayout().cell_index(np.array([calo.CaloLayout().index("ECAL1")]), np.array([3]),
                                                         np.array([3]))[0]] / 1000.0  # fmt: skip
    assert e_central == pytest.approx(a_in * 25.0 / 1000.0, rel=0.05)
    ev = res.events
    assert ev.ecal_max_x[0] == 3 and ev.ecal_max_y[0] == 3
    # the box sees a finite largest in-time energy, above the measured one
    assert ev.e_ecal[0] <= ev.e_ecal_max[0] < 50.0
    # without the seeded refit: the in-time energy of the straight-baseline re-measurement is
    # worse, and with the pile-up before the in-time pulse the model-free bound (its tail
    # under the in-time peak) takes the event out of the box
    blind, _ = _event(t_pile, a_in, seeded=False)
    assert abs(blind.events.e_ecal[0] - a_in * 25.0 / 1000.0) > abs(ev.e_ecal[0] - a_in * 25.0 / 1000.0)
    if t_pile < 150.0:
        assert blind.events.e_ecal_max[0] > 50.0
    # the ring of neighbours, in time and clear of other pulses within 20 ns, bounds the cell
    # even without the refit (8x the ring: this toy shower's four neighbours hold 12 %)
    ringed, _ = _event(t_pile, a_in, seeded=False, ring=True)
    assert ringed.events.e_ecal[0] <= ringed.events.e_ecal_max[0] < 50.0


def test_a_ring_crowded_by_a_nearby_pile_up_pulse_bounds_nothing():
    # the neighbours' pile-up pulses 10 ns from the in-time ones: their fits could have merged
    # the two, so the ring's in-time energy says nothing about the central cell
    ringed, _ = _event(160.0, 800.0, seeded=False, ring=True)
    blind, _ = _event(160.0, 800.0, seeded=False, ring=False)
    assert ringed.events.e_ecal_max[0] == blind.events.e_ecal_max[0] > 50.0


def test_a_pile_up_pulse_within_a_sample_and_a_half_leaves_the_seeded_refit_out():
    # 12 ns apart under clipped peaks the two pulses can be split wrongly by a fit that still
    # describes the samples: the refit neither measures nor bounds the cell
    res, _ = _event(138.0, 800.0, seeded=True)
    blind, _ = _event(138.0, 800.0, seeded=False)
    assert res.events.e_ecal_max[0] == blind.events.e_ecal_max[0]
    assert res.events.e_ecal[0] == blind.events.e_ecal[0]


def test_a_clipped_in_time_pulse_stays_large_in_the_box_bound():
    # a background electron: the clipped pulse is the in-time one; the refit must not let it
    # look like a signal
    res, _ = _event(300.0, 5000.0, seeded=True)
    assert res.events.e_ecal_max[0] > 100.0


def test_seed_times_are_the_event_pulses_shifted_by_the_cells_time_calibration():
    offsets = np.array([0, 3, 5])
    pulse_cell = np.array([0, 1, 2, 1, 2])
    pulse_amp = np.array([50.0, 500.0, 300.0, 10.0, 400.0])
    pulse_time = np.array([100.0, 120.0, 140.0, 160.0, 180.0])
    seed_cell = np.array([True, True, False])
    time_mean = np.array([1.0, 2.0, 3.0])
    times, toff, weights = seed_times(np.array([1, 0]), np.array([0, 1]), offsets, pulse_cell, pulse_amp, pulse_time, seed_cell,
                             time_mean, 20.0)  # fmt: skip
    # suspect 0 (event 1, cell 0): pulse 3 too small, pulse 4 not a seed cell -> none
    # suspect 1 (event 0, cell 1): pulses 0 (cell 0: 100 - 1 + 2) and 1 (cell 1: 120)
    assert toff.tolist() == [0, 0, 2]
    assert times.tolist() == [101.0, 120.0] and weights.tolist() == [50.0, 500.0]
