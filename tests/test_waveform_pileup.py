"""Pile-up: separated pulses are found, tails of earlier pulses are modelled, no fake pile-up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import na64reco as nr
from na64reco.waveform import FLAGS, load_template, simulate_windows

ECAL = load_template("ecal")
FITTER = nr.WaveformFitter(ECAL, noise_rms=2.0)


@given(
    a1=st.floats(40.0, 2500.0),
    a2=st.floats(40.0, 2500.0),
    t1=st.floats(40.0, 200.0),
    separation=st.floats(50.0, 180.0),
    seed=st.integers(0, 2**31),
)
def test_two_well_separated_pulses_are_found_as_two(a1, a2, t1, separation, seed):
    rng = np.random.default_rng(seed)
    t2 = t1 + separation
    w = simulate_windows(ECAL, np.array([[a1, a2]]), np.array([[t1, t2]]), rng=rng, digitize=False)
    r = FITTER.fit(w)
    assert r.npulses[0] == 2
    assert r.flags[0] & FLAGS["pileup"]
    p = r.pulses
    assert p.time_ns.tolist() == sorted(p.time_ns.tolist())
    np.testing.assert_allclose(p.time_ns, [t1, t2], atol=4.0)
    # amplitude errors are reported; the truth is within 5 of them
    assert np.all(np.abs(p.amplitude - [a1, a2]) < 5 * p.amplitude_err + 1e-6)


@given(
    amps=st.lists(st.floats(60.0, 2500.0), min_size=3, max_size=3),
    t1=st.floats(20.0, 90.0),
    gaps=st.lists(st.floats(75.0, 140.0), min_size=2, max_size=2),
    seed=st.integers(0, 2**31),
)
def test_three_well_separated_pulses_are_found_as_three(amps, t1, gaps, seed):
    rng = np.random.default_rng(seed)
    times = [t1, t1 + gaps[0], t1 + gaps[0] + gaps[1]]
    w = simulate_windows(ECAL, np.array([amps]), np.array([times]), rng=rng, digitize=False)
    r = FITTER.fit(w)
    assert r.npulses[0] == 3
    np.testing.assert_allclose(r.pulses.time_ns, times, atol=4.0)
    assert np.all(np.abs(r.pulses.amplitude - amps) < 5 * r.pulses.amplitude_err + 1e-6)


def test_noiseless_overlapping_pulses_are_resolved_exactly():
    t = np.arange(32) * 12.5
    y = 900.0 * ECAL.value(t - 100.0) + 150.0 * ECAL.value(t - 127.0) + 100.0
    r = FITTER.fit(y)
    assert r.npulses[0] == 2
    np.testing.assert_allclose(r.pulses.amplitude, [900.0, 150.0], rtol=1e-4)
    np.testing.assert_allclose(r.pulses.time_ns, [100.0, 127.0], atol=1e-2)


def test_tail_of_a_pulse_before_the_window_is_modelled():
    rng = np.random.default_rng(7)
    n = 300
    w = simulate_windows(ECAL, np.stack([np.full(n, 2000.0), np.full(n, 300.0)], 1),
                         np.stack([np.full(n, -40.0), rng.uniform(150.0, 250.0, n)], 1), rng=rng)
    r = FITTER.fit(w)
    single = nr.WaveformFitter(ECAL, pileup=False).fit(w)
    # the in-window pulse is the main one and its amplitude is not pulled by the tail
    assert np.median(np.abs(r.amplitude - 300.0)) < 2.0
    assert np.mean(r.npulses == 2) > 0.95
    assert np.all(r.time_ns > 100.0)
    early = r.pulses.time_ns < 0
    assert early.sum() == n
    # the tail of a pulse peaking before the window is a near-exponential: its peak time and
    # amplitude trade off (times spread over +-10 ns), what the window sees of it does not
    t = 12.5 * np.arange(32)
    seen = [(a * ECAL.value(t - tau)).sum() for a, tau in zip(r.pulses.amplitude[early], r.pulses.time_ns[early])]
    ratio = np.asarray(seen) / (2000.0 * ECAL.value(t + 40.0)).sum()
    assert np.median(np.abs(ratio - 1.0)) < 0.005 and np.percentile(np.abs(ratio - 1.0), 90) < 0.01
    # without pile-up resolution the tail biases the amplitude
    assert np.median(np.abs(single.amplitude - 300.0)) > 5.0


def test_isolated_pulses_give_no_fake_pileup():
    rng = np.random.default_rng(8)
    n = 3000
    amp = np.exp(rng.uniform(np.log(20.0), np.log(3000.0), n))
    w = simulate_windows(ECAL, amp, rng.uniform(0.0, 380.0, n), rng=rng, pedestal_even=100.0, pedestal_odd=104.0)
    r = FITTER.fit(w)
    assert np.mean(r.npulses > 1) < 0.005


def test_every_pulse_is_reported_with_its_wave():
    rng = np.random.default_rng(9)
    n = 500
    k = rng.integers(1, 4, n)
    amp = np.where(np.arange(3)[None, :] < k[:, None], rng.uniform(100, 1500, (n, 3)), np.nan)
    tau = np.sort(rng.uniform(0.0, 380.0, (n, 3)), axis=1)
    tau[:, 1] = np.maximum(tau[:, 1], tau[:, 0] + 60.0)
    tau[:, 2] = np.maximum(tau[:, 2], tau[:, 1] + 60.0)
    w = simulate_windows(ECAL, amp, tau, rng=rng)
    r = FITTER.fit(w)
    counts = np.bincount(r.pulses.wave, minlength=n)
    np.testing.assert_array_equal(counts, r.npulses)
    assert np.mean(r.npulses == np.minimum(k, 3)) > 0.9
    assert np.all(np.diff(r.pulses.wave) >= 0)
    assert r.pulses.in_time.sum() == np.count_nonzero(r.npulses)


def test_pileup_resolution_can_be_switched_off():
    t = np.arange(32) * 12.5
    y = 900.0 * ECAL.value(t - 60.0) + 500.0 * ECAL.value(t - 250.0) + 100.0
    r = nr.WaveformFitter(ECAL, pileup=False).fit(y)
    assert r.npulses[0] == 1 and not (r.flags[0] & FLAGS["pileup"])


def test_results_do_not_depend_on_the_other_windows_of_the_batch():
    # The fitter memoises dot products per window; nothing may leak from one window to the
    # next: a batch, the same batch reversed, and every window alone agree bit for bit.
    rng = np.random.default_rng(5)
    n = 60
    amp = np.stack([rng.uniform(30.0, 3000.0, n), rng.uniform(20.0, 1500.0, n), rng.uniform(20.0, 6000.0, n)], 1)
    tau = np.stack([rng.uniform(60.0, 250.0, n), rng.uniform(-100.0, 400.0, n), rng.uniform(0.0, 380.0, n)], 1)
    amp[::3, 1:] = np.nan  # a third single pulses, the rest pile-up (some saturating)
    w = simulate_windows(ECAL, amp, tau, rng=rng, noise_rms=2.0, pedestal_even=100.0, pedestal_odd=104.0)
    batch = FITTER.fit(w)
    backwards = FITTER.fit(w[::-1].copy())
    for name in ("amplitude", "time_ns", "amplitude_err", "chi2", "npulses", "flags", "pedestal"):
        np.testing.assert_array_equal(batch.waves[name], backwards.waves[name][::-1], err_msg=name)
    assert np.any(batch.npulses > 1) and np.any(batch.flags & FLAGS["saturated"])
    for i in range(0, n, 7):
        alone = FITTER.fit(w[i : i + 1])
        for name in ("amplitude", "time_ns", "chi2", "npulses", "flags"):
            assert alone.waves[name][0] == batch.waves[name][i], (i, name)


def test_large_pulses_just_before_the_window_are_resolved_with_the_in_time_pulse():
    # Peaks 5-60 ns before the first sample leave a nearly pure exponential in the window,
    # where amplitude and time of the early pulse are almost degenerate: its fit must not
    # blow up (and be dropped), or the pedestals absorb the tail.
    rng = np.random.default_rng(11)
    n = 400
    a_early = np.exp(rng.uniform(np.log(300.0), np.log(3500.0), n))
    t_early = rng.uniform(-60.0, -5.0, n)
    a_main = np.exp(rng.uniform(np.log(50.0), np.log(2500.0), n))
    t_main = rng.uniform(130.0, 170.0, n)
    w = simulate_windows(ECAL, np.stack([a_early, a_main], 1), np.stack([t_early, t_main], 1), rng=rng,
                         pedestal_even=100.0, pedestal_odd=104.0)
    r = FITTER.fit(w)
    assert np.mean(r.npulses == 2) > 0.95
    assert np.percentile(np.abs(r.pedestal_even - 100.0), 99) < 3.0
    assert np.percentile(np.abs(r.pedestal_odd - 104.0), 99) < 3.0
    assert np.mean(r.chi2 / r.ndf < 2.0) > 0.95
    assert np.median(np.abs(r.amplitude / a_main - 1.0)) < 0.01


def test_large_resolved_pairs_have_the_chi2_of_noise():
    # The pile-up search ranks trial models on a linearisation that may sit one table phase
    # away from the answer; the model it keeps must be settled on its own phase, or the
    # neglected curvature of pulses of thousands of ADC counts lifts the chi2.
    rng = np.random.default_rng(3)
    n = 6000
    amp = np.stack([np.full(n, 2500.0), rng.uniform(200.0, 1500.0, n)], axis=1)
    t1 = rng.uniform(100.0, 200.0, n)
    tau = np.stack([t1, t1 + rng.uniform(30.0, 120.0, n)], axis=1)
    w = simulate_windows(ECAL, amp, tau, rng=rng, noise_rms=2.0, pedestal_even=100.0, pedestal_odd=104.0)
    r = FITTER.fit(w)
    two = r.npulses == 2
    assert two.mean() > 0.99
    chi2_ndf = r.waves["chi2"][two] / r.waves["ndf"][two]
    assert np.mean(chi2_ndf) < 1.035  # settled: 1.02 (1.05 when kept on the neighbouring phase)
    assert np.median(np.abs(r.waves["amplitude"][two] / 2500.0 - 1.0)) < 1e-3


def test_noise_that_fires_the_prefilter_stays_one_pulse_and_real_pairs_are_found():
    # ~1 % of isolated pulses look suspicious by chance; the search gives up on them early
    # (nothing to add near the bump, nothing elsewhere). Two pulses 25 ns apart at 10 sigma,
    # the hardest case the fitter promises, must still come out as two.
    rng = np.random.default_rng(12)
    n = 20000
    iso = simulate_windows(ECAL, np.exp(rng.uniform(np.log(20.0), np.log(3000.0), n)), rng.uniform(100.0, 200.0, n),
                           rng=rng, pedestal_even=100.0, pedestal_odd=104.0)  # fmt: skip
    assert np.mean(FITTER.fit(iso).npulses > 1) < 0.001
    m = 3000
    t1 = rng.uniform(100.0, 200.0, m)
    pairs = simulate_windows(ECAL, np.full((m, 2), 20.0), np.stack([t1, t1 + 25.0], axis=1), rng=rng,
                             pedestal_even=100.0, pedestal_odd=104.0)  # fmt: skip
    assert np.mean(FITTER.fit(pairs).npulses == 2) > 0.95


def test_large_pulses_a_sample_apart_are_not_left_merged():
    # two large pulses 10-16 ns apart, often clipped at their peaks: a fit that keeps them
    # as one pulse (or one plus a stray) leaves a chi2 hundreds above its ndf
    rng = np.random.default_rng(3)
    n = 300
    amps = rng.uniform(1200.0, 2400.0, (n, 2))
    t1 = rng.uniform(150.0, 230.0, n)
    times = np.stack([t1, t1 + rng.uniform(10.0, 16.0, n)], axis=1)
    r = FITTER.fit(simulate_windows(ECAL, amps, times, rng=rng))
    far_off = np.asarray(r.waves["chi2"]) > np.asarray(r.waves["ndf"]) + 50
    assert far_off.sum() <= 2  # 6 of these 300 before merged pulses were split
    assert (r.npulses == 2).mean() > 0.97


@pytest.mark.parametrize("amps", [(400.0, 400.0), (200.0, 400.0), (400.0, 200.0)])
def test_fast_pulses_two_samples_apart_are_not_left_merged(amps):
    # The beam counters' template rises within a sample: a single fit of two such pulses
    # 25 ns apart sits between them, and halves started half a sample either side of it
    # were pulled back together (equal pairs: 31 % left as one, chi2 in the thousands).
    counter = load_template("counter")
    fitter = nr.WaveformFitter(counter, noise_rms=2.0)
    rng = np.random.default_rng(21)
    n = 1000
    t1 = rng.uniform(100.0, 200.0, n)
    r = fitter.fit(simulate_windows(counter, np.tile(amps, (n, 1)), np.stack([t1, t1 + 25.0], axis=1), rng=rng))
    assert (r.npulses == 2).mean() >= 0.95
    assert np.all(np.asarray(r.waves["chi2"]) <= np.asarray(r.waves["ndf"]) + 50)


# Central main-section ECAL cells of two simulated 3 MHz signal events (samples as recorded):
# a small in-time pulse 9-11 ns from a large pile-up pulse, true peak times (ns) and the
# in-time amplitude. Fitted with the small pulse on the wrong side of the large one, the
# master time had been put on the pile-up particle.
_SMALL_BESIDE_LARGE = [
    # the small one first; the largest pulses of the window lie elsewhere (48, 296, 362 ns),
    # and the pair sits under a worse local fit (chi2 78 for 18 degrees of freedom)
    ([177, 179, 185, 2257, 2963, 2537, 1982, 1529, 1183, 940, 1433, 3505, 3582, 2907, 2245, 1718,
      1324, 1027, 810, 645, 523, 435, 528, 2655, 2976, 2466, 1920, 1486, 3304, 3984, 4095, 4095],
     (134.4, 145.6), 595.0),
    # the large one first (fitted mirrored: chi2 43 instead of 13 for 26 degrees of freedom)
    ([177, 175, 175, 174, 177, 174, 173, 176, 176, 661, 3088, 3661, 3078, 2392, 1832, 1409,
      1094, 853, 683, 552, 457, 381, 328, 290, 263, 239, 224, 209, 202, 193, 190, 186],
     (131.4, 140.3), 878.0),
]  # fmt: skip


@pytest.mark.parametrize("samples,times,small", _SMALL_BESIDE_LARGE)
def test_a_small_pulse_beside_a_large_one_is_found_on_its_own_side(samples, times, small):
    fitter = nr.WaveformFitter(ECAL, noise_rms=2.0, pre_window_ns=0.0)
    r = fitter.fit(np.array([samples], dtype=np.uint16))
    p = r.pulses
    near = [int(np.argmin(np.abs(p.time_ns - t))) for t in times]
    np.testing.assert_allclose(p.time_ns[near], times, atol=1.5)
    small_one = near[int(np.argmin(p.amplitude[near]))]
    assert abs(p.amplitude[small_one] - small) < 0.15 * small
    assert r.chi2[0] < 2 * r.ndf[0]
