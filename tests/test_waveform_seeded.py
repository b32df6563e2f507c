"""Fits seeded with pulse times known in advance (WaveformFitter.fit_seeded)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import na64reco as nr
from na64reco.waveform import load_template

ECAL = load_template("ecal")
FITTER = nr.WaveformFitter(ECAL, noise_rms=1.5, pre_window_ns=0.0, post_window_ns=50.0)
T = np.arange(32) * 12.5


def window(pulses, even=150.0, odd=153.0, clip=True):
    s = np.where(np.arange(32) % 2 == 0, even, odd).astype(np.float64)
    for amp, t in pulses:
        s = s + amp * np.asarray(ECAL.value(T - t)) / ECAL.peak_value
    return np.minimum(s, 4095.0) if clip else s


def seeded(w, seeds, in_time):
    w = np.atleast_2d(np.asarray(w, dtype=np.float64))
    seeds = [np.asarray(s, dtype=np.float64) for s in seeds]
    offsets = np.r_[0, np.cumsum([s.size for s in seeds])]
    return FITTER.fit_seeded(w, np.concatenate(seeds) if seeds else np.zeros(0), offsets, np.asarray(in_time, float))


@given(
    a_in=st.floats(200.0, 1500.0),
    a_pile=st.floats(4500.0, 6000.0),
    gap=st.floats(15.0, 50.0),
    before=st.booleans(),
    shift=st.floats(-1.0, 1.0),
)
def test_noiseless_clipped_pile_up_next_to_the_in_time_pulse_is_measured_within_its_error(a_in, a_pile, gap, before, shift):
    t_in = 150.0
    t_pile = t_in - gap if before else t_in + gap
    w = window([(a_in, t_in), (a_pile, t_pile)])
    assert (w >= 4095).any()
    # seeds a nanosecond off: the refinement moves them onto the pulses
    r = seeded(w, [[t_pile + shift]], [t_in + shift])
    assert r["ok"][0] == 1
    # a fit that describes the samples (as seeded_refit demands before trusting it) has the
    # truth within its error: with both peaks clipped the in-time amplitude can be
    # ill-determined, and the error says so
    if r["chi2"][0] <= 5.0 * r["ndf"][0] and r["clip_consistent"][0]:
        assert abs(r["amplitude"][0] - a_in) <= 3.0 * r["amplitude_err"][0] + 1e-3 * a_in
        if r["amplitude_err"][0] < 0.02 * a_in:
            assert r["amplitude"][0] == pytest.approx(a_in, rel=0.01)


def test_well_separated_clipped_pile_up_is_undone_exactly():
    for t_pile, a_pile in ((60.0, 5000.0), (250.0, 6000.0)):
        w = window([(700.0, 150.0), (a_pile, t_pile)])
        r = seeded(w, [[t_pile + 0.7]], [149.5])
        assert r["npulses"][0] == 2 and r["clip_consistent"][0] == 1
        assert r["amplitude"][0] == pytest.approx(700.0, rel=1e-4)
        assert r["time_ns"][0] == pytest.approx(150.0, abs=0.01)


def test_the_nearest_other_pulse_is_reported():
    w = window([(700.0, 150.0), (3000.0, 60.0), (500.0, 250.0)])
    r = seeded(w, [[60.0, 250.0]], [150.0])
    assert r["npulses"][0] == 3 and r["nearest_other_ns"][0] == pytest.approx(90.0, abs=0.1)
    alone = seeded(window([(700.0, 150.0)]), [[]], [150.0])
    assert np.isinf(alone["nearest_other_ns"][0])


def test_unconfirmed_seeds_are_dropped_and_unseeded_pulses_added():
    rng = np.random.default_rng(3)
    # a tail from before the window, the in-time pulse and one rising at the window's end
    w = window([(900.0, -30.0), (400.0, 140.0), (700.0, 395.0)]) + rng.normal(0.0, 1.5, 32)
    for seeds in ([], [395.0], [60.0, 250.0, 395.0]):  # 60 and 250 ns: particles this channel did not see
        r = seeded(w, [seeds], [140.0])
        assert r["ok"][0] == 1 and r["npulses"][0] == 3, seeds
        assert r["amplitude"][0] == pytest.approx(400.0, rel=0.03)
        assert r["chi2"][0] / r["ndf"][0] < 2.0


def test_without_an_in_time_pulse_its_amplitude_is_fitted_at_the_seed_time():
    rng = np.random.default_rng(5)
    w = window([(2000.0, 100.0)]) + rng.normal(0.0, 1.5, (400, 32))
    r = FITTER.fit_seeded(w, np.full(400, 100.0), np.arange(401), np.full(400, 160.0))
    assert (r["ok"] == 1).all() and (r["amplitude_err"] > 0).all()
    # no pulse there: every estimate is compatible with none; where the in-time seed faded
    # away (the usual case) the amplitude is measured at the seed's time, without bias
    assert np.all(np.abs(r["amplitude"]) < 5 * r["amplitude_err"])
    forced = r["time_ns"] == 160.0
    assert forced.mean() > 0.4
    pull = r["amplitude"][forced] / r["amplitude_err"][forced]
    assert abs(np.mean(pull)) < 0.3 and 0.6 < np.std(pull) < 1.3


def test_a_model_below_a_clipped_sample_is_not_clip_consistent():
    # a lone clipped spike that no pulse shape explains next to a small in-time pulse
    w = window([(300.0, 150.0)])
    w[25] = 4095.0
    r = seeded(w, [[]], [150.0])
    assert r["clip_consistent"][0] == 0
    good = seeded(window([(300.0, 150.0), (5000.0, 300.0)]), [[300.0]], [150.0])
    assert good["clip_consistent"][0] == 1


@given(st.lists(st.floats(), min_size=32, max_size=32), st.lists(st.floats(), max_size=30), st.floats(),
       st.integers(-5, 40))  # fmt: skip
def test_any_input_gives_finite_outputs_or_nan_times(samples, seeds, in_time, nrecorded):
    r = FITTER.fit_seeded(np.array([samples]), np.array(seeds, float), np.array([0, len(seeds)]),
                          np.array([in_time]), nsamples=np.array([nrecorded]))  # fmt: skip
    for key in ("amplitude", "amplitude_err", "chi2"):
        assert np.isfinite(r[key]).all(), key
    assert 0 <= r["npulses"][0] <= 6 and r["ok"][0] in (0, 1) and r["clip_consistent"][0] in (0, 1)


def test_bad_seed_layouts_are_rejected_with_the_reason():
    w = np.tile(window([(300.0, 150.0)]), (2, 1))
    with pytest.raises(ValueError, match="n \\+ 1 = 3"):
        FITTER.fit_seeded(w, np.zeros(2), np.array([0, 2]), np.full(2, 150.0))
    with pytest.raises(ValueError, match="decrease at waveform 1"):
        FITTER.fit_seeded(w, np.zeros(2), np.array([0, 3, 2]), np.full(2, 150.0))
    with pytest.raises(ValueError, match="from 0 to len\\(seed_times\\) = 2"):
        FITTER.fit_seeded(w, np.zeros(2), np.array([0, 1, 1]), np.full(2, 150.0))
    with pytest.raises(ValueError, match="in_time_ns must have one value per waveform"):
        FITTER.fit_seeded(w, np.zeros(2), np.array([0, 1, 2]), np.full(3, 150.0))


def test_fixed_times_measure_a_small_in_time_pulse_next_to_a_larger_one():
    # an SRD-like case: 30 ADC in time, 150 ADC of a pile-up particle 12 ns later, whose time
    # the beam counters give to a few tenths of a nanosecond
    rng = np.random.default_rng(11)
    n = 500
    w = window([(30.0, 125.0), (150.0, 137.0)], clip=False) + rng.normal(0.0, 1.5, (n, 32))
    seeds = 137.0 + rng.normal(0.0, 0.3, n)
    r = FITTER.fit_seeded(w, seeds, np.arange(n + 1), np.full(n, 125.0), fixed_times=True)
    assert (r["ok"] == 1).all() and (r["npulses"] == 2).all() and (r["time_ns"] == 125.0).all()
    pull = (r["amplitude"] - 30.0) / r["amplitude_err"]
    assert abs(np.median(r["amplitude"]) - 30.0) < 1.0 and np.std(pull) < 1.5
    assert np.median(r["chi2"] / r["ndf"]) < 1.3


def test_the_heaviest_of_nearby_seeds_gives_the_time():
    w = window([(300.0, 150.0), (400.0, 250.0)], clip=False)
    # two seeds for the particle at 250 ns: a poorly timed small pulse and a well timed large one
    r = FITTER.fit_seeded(w[None], np.array([253.5, 250.0]), np.array([0, 2]), np.array([150.0]), fixed_times=True,
                          seed_weights=np.array([10.0, 500.0]), seed_merge_ns=5.0)  # fmt: skip
    assert r["npulses"][0] == 2 and r["chi2"][0] < 1e-6
    assert r["amplitude"][0] == pytest.approx(300.0, rel=1e-6)
    with pytest.raises(ValueError, match="one value per seed time"):
        FITTER.fit_seeded(w[None], np.array([253.5, 250.0]), np.array([0, 2]), np.array([150.0]), seed_weights=np.ones(3))
