"""Fits at pulse times given in advance (``fit(..., hints=TimeHints(...))``) and the chain's
leading-channel hints."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import na64reco as nr
from na64reco.pipeline.leader_hints import ClockTimes, leaders_of_events
from na64reco.waveform import FLAGS, TimeHints, load_template, simulate_windows

ECAL = load_template("ecal")
FITTER = nr.WaveformFitter(ECAL, noise_rms=2.0)


def windows(amps, taus, rng=None, noise=0.0):
    """One window; noiseless ones are not rounded to ADC counts."""
    return simulate_windows(ECAL, np.atleast_2d(amps), np.atleast_2d(taus), rng=rng or np.random.default_rng(0),
                            noise_rms=noise, pedestal_even=100.0, pedestal_odd=104.0, digitize=noise > 0)


def hints_for_all(times, n):
    """Every one of n windows offered the same times."""
    return TimeHints(np.asarray(times, float), [0, len(times)], np.zeros(n, np.int64), 0.0)


@settings(max_examples=40, deadline=None)
@given(a1=st.floats(30.0, 1900.0), a2=st.floats(30.0, 1900.0), t1=st.floats(60.0, 180.0), gap=st.floats(25.0, 150.0))
def test_noiseless_pulses_at_their_hinted_times_are_measured_exactly(a1, a2, t1, gap):
    t2 = t1 + gap
    y = windows([a1, a2], [t1, t2])
    r = FITTER.fit(y, hints=hints_for_all([t1, t2], 1))
    assert r.flags[0] & FLAGS["hinted"]
    # exact on the phase grid (0.5 ns), to second order in the distance from it in between
    np.testing.assert_allclose(r.pulses["amplitude"], [a1, a2], rtol=2e-3)
    np.testing.assert_allclose(r.pulses["time_ns"], [t1, t2], atol=1e-9)
    on_grid = FITTER.fit(windows([a1, a2], [round(t1 * 2) / 2, round(t2 * 2) / 2]),
                         hints=hints_for_all([round(t1 * 2) / 2, round(t2 * 2) / 2], 1))
    np.testing.assert_allclose(on_grid.pulses["amplitude"], [a1, a2], rtol=1e-6)
    assert on_grid.chi2[0] < 1e-6
    assert r.ndf[0] == 32 - 2 - 2  # one parameter per hinted pulse
    np.testing.assert_allclose([on_grid.pedestal_even[0], on_grid.pedestal_odd[0]], [100.0, 104.0], atol=1e-6)


def test_hints_agree_with_the_free_fit_on_noisy_pulses():
    rng = np.random.default_rng(3)
    n = 2000
    t = rng.uniform(80.0, 200.0, n)
    a = rng.uniform(50.0, 2000.0, n)
    y = simulate_windows(ECAL, a, t, rng=rng, noise_rms=2.0, pedestal_even=100.0, pedestal_odd=104.0)
    free = FITTER.fit(y)
    hinted = FITTER.fit(y, hints=TimeHints(t, np.arange(n + 1), np.arange(n), 0.0))
    kept = (hinted.flags & FLAGS["hinted"]) != 0
    assert kept.mean() > 0.95
    # the same pulse: amplitudes within a few noise errors, errors of the same size
    d = (hinted.amplitude - free.amplitude)[kept] / hinted.amplitude_err[kept]
    assert np.median(np.abs(d)) < 1.0
    assert np.all(np.abs(hinted.time_ns[kept] - t[kept]) <= 0.25 + 1e-9)
    # unbiased against the truth
    pull = (hinted.amplitude - a)[kept] / hinted.amplitude_err[kept]
    assert abs(pull.mean()) < 0.1 and 0.85 < pull.std() < 1.15


def test_a_pulse_the_hints_miss_sends_the_window_to_the_free_fit():
    y = windows([800.0, 600.0], [100.0, 250.0])
    r = FITTER.fit(y, hints=hints_for_all([100.0], 1))
    assert not r.flags[0] & FLAGS["hinted"]
    np.testing.assert_allclose(np.sort(r.pulses["amplitude"]), [600.0, 800.0], rtol=1e-3)
    assert r.npulses[0] == 2


def test_a_hinted_time_without_a_pulse_is_dropped():
    y = windows([800.0], [150.0], rng=np.random.default_rng(1), noise=2.0)
    r = FITTER.fit(y, hints=hints_for_all([40.0, 150.0, 300.0], 1))
    assert r.flags[0] & FLAGS["hinted"]
    assert r.npulses[0] == 1
    assert r.time_ns[0] == 150.0


def test_windows_without_hints_or_with_clipped_samples_are_fitted_freely():
    rng = np.random.default_rng(2)
    y = np.concatenate([windows([700.0], [150.0], rng=rng, noise=2.0), windows([9000.0], [150.0], rng=rng, noise=2.0)])
    y = np.minimum(y, 4095)
    r = FITTER.fit(y, hints=TimeHints([150.0], [0, 1], [-1, 0], [0.0, 0.0]))
    free = FITTER.fit(y)
    assert not np.any(r.flags & FLAGS["hinted"])
    for name in ("amplitude", "time_ns", "chi2", "flags"):
        np.testing.assert_array_equal(r.waves[name], free.waves[name])


def test_shift_moves_the_hints_per_waveform():
    y = np.concatenate([windows([500.0], [120.0]), windows([500.0], [160.0])])
    r = FITTER.fit(y, hints=TimeHints([100.0], [0, 1], [0, 0], [20.0, 60.0]))
    assert np.all(r.flags & FLAGS["hinted"])
    np.testing.assert_allclose(r.time_ns, [120.0, 160.0])
    np.testing.assert_allclose(r.amplitude, 500.0, rtol=1e-6)


def test_hints_work_with_rows_and_threads():
    rng = np.random.default_rng(4)
    n = 600
    t = rng.uniform(80.0, 200.0, n)
    y = simulate_windows(ECAL, rng.uniform(50.0, 2000.0, n), t, rng=rng, noise_rms=2.0)
    rows = rng.permutation(n)[:400]
    hints = TimeHints(t[rows], np.arange(rows.size + 1), np.arange(rows.size), 0.0)
    a = nr.WaveformFitter(ECAL).fit(y[rows], hints=hints)
    b = nr.WaveformFitter(ECAL, threads=3).fit(y, rows=rows, hints=hints)
    for name in a.waves:
        np.testing.assert_array_equal(a.waves[name], b.waves[name])
    for name in a.pulses:
        np.testing.assert_array_equal(a.pulses[name], b.pulses[name])


@pytest.mark.parametrize(
    ("hints", "message"),
    [
        (TimeHints([100.0], [0, 2], [0], 0.0), r"hint_offsets must run from 0 to len\(hint_times\) = 1"),
        (TimeHints([100.0, 50.0], [0, 2], [0], 0.0), "not in time order at entry 1"),
        (TimeHints([np.nan], [0, 1], [0], 0.0), r"hint_times\[0\] is not finite"),
        (TimeHints([100.0], [0, 1], [1], 0.0), r"hint_group\[0\] = 1 is not a group"),
        (TimeHints([100.0], [0, 1], [0, 0], 0.0), "one entry per fitted waveform"),
        (TimeHints([100.0], [0, 1], [0], np.inf), r"hint_shift_ns\[0\] is not finite"),
        (TimeHints([80.0, 90.0, 100.0], [0, 2, 1, 3], [0], 0.0), "hint_offsets decrease at group 1"),
    ],
)
def test_bad_hints_are_reported(hints, message):
    with pytest.raises(ValueError, match=message):
        FITTER.fit(windows([500.0], [120.0]), hints=hints)


def test_leaders_are_each_events_largest_candidate():
    event = np.array([0, 0, 0, 1, 1, 3, 3, 3])
    candidate = np.array([1, 1, 0, 0, 0, 1, 1, 1], bool)
    size = np.array([5, 9, 99, 50, 7, 3, 8, 8])
    # event 0: the largest candidate (not the larger non-candidate); event 1: none; event 3:
    # the first of two equal ones
    np.testing.assert_array_equal(leaders_of_events(event, candidate, size), [1, 6])
    assert leaders_of_events(event, np.zeros(8, bool), size).size == 0


def test_other_detectors_times_join_where_the_leader_saw_nothing():
    own = ClockTimes.of_events(np.array([0, 0, 2]), np.array([10.0, 50.0, 7.0]), 3)
    extra = ClockTimes.of_events(np.array([0, 0, 1, 2]), np.array([12.0, 80.0, 30.0, 3.0]), 3)
    joined = own.joined(extra, 3.125)
    # event 0: 12 is the particle at 10 (the own time stands), 80 is new; event 1 had no
    # leader; event 2: 3 is 4 ns from 7, a particle of its own
    np.testing.assert_array_equal(joined.offsets, [0, 3, 4, 6])
    np.testing.assert_array_equal(joined.times, [10.0, 50.0, 80.0, 30.0, 3.0, 7.0])


def test_leaders_hint_the_other_windows_of_their_event_only():
    from na64reco.pipeline.leader_hints import fit_with_leader_hints

    rng = np.random.default_rng(6)
    # three events of three windows each, the particles of event e at 100 + 20 e ns; window 0
    # of each event leads; window 2 of event 1 has no calibrated delay
    times = np.repeat(100.0 + 20.0 * np.arange(3), 3)
    amps = np.tile([1500.0, 300.0, 200.0], 3)
    samples = simulate_windows(ECAL, amps, times, rng=rng, noise_rms=2.0)
    event = np.repeat(np.arange(3), 3)
    delay = np.zeros(9)
    delay[5] = np.nan
    parts, clock = fit_with_leader_hints(FITTER, samples, None, np.arange(9), event, np.array([0, 3, 6]), delay, 3,
                                         takes_hints=np.isfinite(delay))
    (lead_rows, lead), (other_rows, other) = parts
    np.testing.assert_array_equal(lead_rows, [0, 3, 6])
    np.testing.assert_array_equal(other_rows, [1, 2, 4, 5, 7, 8])
    assert not np.any(lead.flags & FLAGS["hinted"])
    hinted = (other.flags & FLAGS["hinted"]) != 0
    np.testing.assert_array_equal(hinted, [True, True, True, False, True, True])
    # the hinted pulses sit at their own event's leader's time
    np.testing.assert_allclose(other.time_ns[hinted], np.repeat(lead.time_ns, 2)[hinted])
    np.testing.assert_array_equal(clock.offsets, [0, 1, 2, 3])
    np.testing.assert_allclose(clock.times, lead.time_ns)
