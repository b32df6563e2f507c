"""Single-pulse fits: exact recovery, equivariances, pedestal modes, options and batch API."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, strategies as st

import na64reco as nr
from na64reco.waveform import FLAGS, describe_flags, load_template, simulate_windows

ECAL = load_template("ecal")
T = np.arange(32) * 12.5
FITTER = nr.WaveformFitter(ECAL, noise_rms=2.0)
SINGLE = nr.WaveformFitter(ECAL, noise_rms=2.0, pileup=False)


def pulse(amp, tau, ped_even=100.0, ped_odd=100.0, tpl=ECAL, width=32):
    t = np.arange(width) * 12.5
    return amp * tpl.value(t - tau) + np.where(np.arange(width) % 2 == 0, ped_even, ped_odd)


@given(
    amp=st.floats(20.0, 3500.0),
    tau=st.floats(10.0, 370.0),
    ped_even=st.floats(20.0, 500.0),
    ped_odd=st.floats(20.0, 500.0),
    kind=st.sampled_from(["ecal", "hcal", "veto", "srd", "counter"]),
    exact=st.booleans(),
)
def test_noiseless_pulse_is_recovered_exactly(amp, tau, ped_even, ped_odd, kind, exact):
    tpl = load_template(kind)
    fitter = nr.WaveformFitter(tpl, noise_rms=2.0, exact_refinement=exact)
    r = fitter.fit(pulse(amp, tau, ped_even, ped_odd, tpl))
    assert r.npulses[0] == 1 and r.flags[0] == 0
    # The default last step uses the phase table's curvature term (error ~ dtau^3, dtau below
    # a quarter ns); exact_refinement iterates Gauss-Newton on the interpolated template.
    # default: the O(dtau^3) remainder costs < 1 in chi2 (ndf 28, whose own spread is 7.5) and
    # leaves the pedestals up to ~2e-5 of the amplitude off (the counters' fast template)
    table = (1e-4, 2e-2, max(5e-2, 3e-5 * amp), 1.0)
    rel_amp, abs_time, abs_ped, max_chi2 = (1e-6, 1e-3, 1e-3, 1e-3) if exact else table
    assert r.amplitude[0] == pytest.approx(amp, rel=rel_amp)
    assert r.time_ns[0] == pytest.approx(tau, abs=abs_time)
    assert r.pedestal_even[0] == pytest.approx(ped_even, abs=abs_ped)
    assert r.pedestal_odd[0] == pytest.approx(ped_odd, abs=abs_ped)
    assert r.chi2[0] < max_chi2
    assert r.pulses.nrows == 1 and r.pulses.in_time[0]


@given(amp=st.floats(30.0, 1500.0), tau=st.floats(20.0, 300.0), scale=st.floats(0.25, 2.5), seed=st.integers(0, 2**31))
def test_scaling_the_input_scales_the_amplitude(amp, tau, scale, seed):
    # The fitter's choices are made in units of the noise (whether a pulse is large enough to
    # skip the phase scan, ...): scaled samples are those of a noise scaled alike.
    rng = np.random.default_rng(seed)
    y = pulse(amp, tau, 100.0, 103.0) + rng.normal(0.0, 2.0, 32)
    a = SINGLE.fit(y)
    b = nr.WaveformFitter(ECAL, noise_rms=2.0 * scale, pileup=False).fit(scale * y)
    assert b.amplitude[0] == pytest.approx(scale * a.amplitude[0], rel=1e-8)
    assert b.time_ns[0] == pytest.approx(a.time_ns[0], abs=1e-6)
    assert b.pedestal[0] == pytest.approx(scale * a.pedestal[0], rel=1e-8)


@given(amp=st.floats(30.0, 3000.0), tau=st.floats(0.0, 200.0), shift=st.floats(-50.0, 150.0))
def test_shifting_the_pulse_shifts_the_time(amp, tau, shift):
    tau2 = min(max(tau + shift, 5.0), 380.0)
    r = FITTER.fit(np.stack([pulse(amp, tau), pulse(amp, tau2)]))
    assert r.time_ns[1] - r.time_ns[0] == pytest.approx(tau2 - tau, abs=2e-2)
    assert r.amplitude[1] == pytest.approx(r.amplitude[0], rel=2e-4)


def test_noisy_fits_are_unbiased_and_match_their_errors():
    rng = np.random.default_rng(5)
    n = 4000
    amp = np.full(n, 400.0)
    tau = rng.uniform(60.0, 250.0, n)
    w = simulate_windows(ECAL, amp, tau, rng=rng, digitize=False)
    r = FITTER.fit(w)
    pull_a = (r.amplitude - amp) / r.amplitude_err
    pull_t = (r.time_ns - tau) / r.time_err
    assert abs(np.mean(r.amplitude - amp)) < 0.1
    assert 0.9 < np.std(pull_a) < 1.1 and 0.9 < np.std(pull_t) < 1.1
    # chi2 follows its ndf (32 samples - 2 pedestals - amplitude - time)
    assert np.all(r.ndf == 28)
    assert abs(np.mean(r.chi2) - 28.0) < 1.0


def test_uint16_float32_and_float64_inputs_agree():
    rng = np.random.default_rng(1)
    w = simulate_windows(ECAL, rng.uniform(50, 2000, 300), rng.uniform(50, 300, 300), rng=rng)
    a = FITTER.fit(w)
    b = FITTER.fit(w.astype(np.float32))
    c = FITTER.fit(w.astype(np.int64))
    for r in (b, c):
        np.testing.assert_array_equal(a.amplitude, r.amplitude)
        np.testing.assert_array_equal(a.flags, r.flags)


def test_threads_give_identical_results():
    rng = np.random.default_rng(2)
    w = simulate_windows(ECAL, np.stack([rng.uniform(50, 2000, 3000), rng.uniform(20, 500, 3000)], 1),
                         np.stack([rng.uniform(50, 300, 3000), rng.uniform(-100, 400, 3000)], 1), rng=rng)
    a = nr.WaveformFitter(ECAL, threads=1).fit(w)
    b = nr.WaveformFitter(ECAL, threads=3).fit(w)
    for name in a.waves:
        np.testing.assert_array_equal(a.waves[name], b.waves[name])
    for name in a.pulses:
        np.testing.assert_array_equal(a.pulses[name], b.pulses[name])


def test_chosen_rows_are_fitted_in_place_as_their_copies_would_be():
    rng = np.random.default_rng(5)
    w = simulate_windows(ECAL, np.stack([rng.uniform(50, 2000, 400), rng.uniform(20, 500, 400)], 1),
                         np.stack([rng.uniform(50, 300, 400), rng.uniform(-100, 400, 400)], 1), rng=rng)
    recorded = rng.integers(20, 33, 400)
    rows = rng.permutation(400)[:150]
    rows[:3] = rows[0]  # a row asked for more than once is fitted each time
    for fitter in (FITTER, nr.WaveformFitter(ECAL, threads=3)):
        copied = fitter.fit(w[rows], nsamples=recorded[rows])
        in_place = fitter.fit(w, nsamples=recorded, rows=rows)
        for name in copied.waves:
            np.testing.assert_array_equal(copied.waves[name], in_place.waves[name])
        for name in copied.pulses:
            np.testing.assert_array_equal(copied.pulses[name], in_place.pulses[name])
    fixed = nr.WaveformFitter(ECAL, pedestal="fixed")
    ped = np.full((rows.size, 2), 100.0)
    np.testing.assert_array_equal(fixed.fit(w[rows], pedestal=ped).amplitude, fixed.fit(w, pedestal=ped, rows=rows).amplitude)
    assert FITTER.fit(w, rows=np.zeros(0, np.int64)).amplitude.shape == (0,)
    with pytest.raises(ValueError, match=r"rows\[1\] = 400 is outside the 400 rows of samples"):
        FITTER.fit(w, rows=[0, 400])
    with pytest.raises(ValueError, match=r"rows\[0\] = -1 is outside"):
        FITTER.fit(w, nsamples=recorded, rows=[-1])
    with pytest.raises(ValueError, match="one count per row of samples"):
        FITTER.fit(w, nsamples=recorded[rows], rows=rows)
    with pytest.raises(ValueError, match="1-d array of row indices"):
        FITTER.fit(w, rows=[[0]])


def test_result_columns_outlive_the_result_and_are_independent():
    # 30000 windows: the per-window columns share one block of more than 2 MiB (the large,
    # huge-page path); each column must stay valid alone and not overlap another.
    rng = np.random.default_rng(5)
    w = simulate_windows(ECAL, rng.uniform(50, 2000, 30000), rng.uniform(50, 300, 30000), rng=rng)
    expected = FITTER.fit(w)
    kept = {name: np.array(v, copy=True) for name, v in expected.waves.items()}
    kept_pulses = {name: np.array(v, copy=True) for name, v in expected.pulses.items()}
    del expected
    r = FITTER.fit(w)
    amplitude, pulse_time = r.waves["amplitude"], r.pulses["time_ns"]
    del r
    gc.collect()
    FITTER.fit(w[::-1].copy())  # reuses freed memory, if any was freed too early
    np.testing.assert_array_equal(amplitude, kept["amplitude"])
    np.testing.assert_array_equal(pulse_time, kept_pulses["time_ns"])
    r = FITTER.fit(w)
    for name, v in r.waves.items():
        v[...] = 0  # writing one column leaves every other one as it was
        for other, expect in kept.items():
            if other != name:
                np.testing.assert_array_equal(r.waves[other], expect)
        r.waves[name][...] = kept[name]


def test_empty_batch_gives_empty_columns():
    r = FITTER.fit(np.zeros((0, 32), np.uint16))
    assert all(len(v) == 0 for v in r.waves.values())
    assert all(len(v) == 0 for v in r.pulses.values())


@pytest.mark.parametrize("width", [16, 24, 48, 64])
def test_other_window_lengths(width):
    r = FITTER.fit(pulse(500.0, 7.3 * 12.5, width=width)[None, :])
    assert r.amplitude[0] == pytest.approx(500.0, rel=1e-4)
    assert r.time_ns[0] == pytest.approx(7.3 * 12.5, abs=1e-2)


def test_windows_longer_than_supported_are_rejected():
    with pytest.raises(ValueError, match="not supported"):
        FITTER.fit(np.zeros((2, 65)))


def test_recorded_sample_counts_mask_the_rest():
    y = pulse(800.0, 100.0)
    y[20:] = 0  # not recorded: the decoder pads with zeros
    r = FITTER.fit(y[None, :], nsamples=np.array([20]))
    assert r.amplitude[0] == pytest.approx(800.0, rel=1e-4)
    assert r.flags[0] & FLAGS["masked_samples"]
    assert r.ndf[0] == 20 - 4


def test_leading_pedestal_mode_uses_quiet_leading_samples_and_falls_back_otherwise():
    fitter = nr.WaveformFitter(ECAL, pedestal="leading", leading_samples=6)
    rng = np.random.default_rng(3)
    quiet = pulse(600.0, 200.0, 100.0, 104.0) + rng.normal(0, 2.0, 32)
    early = pulse(600.0, 25.0, 100.0, 104.0) + rng.normal(0, 2.0, 32)
    r = fitter.fit(np.stack([quiet, early]))
    assert r.pedestal_even[0] == pytest.approx(np.mean(quiet[0:6:2]))
    assert r.pedestal_odd[0] == pytest.approx(np.mean(quiet[1:6:2]))
    assert r.flags[0] == 0
    assert r.flags[1] & FLAGS["pedestal_fitted"]
    assert r.amplitude[1] == pytest.approx(600.0, abs=6.0)


def test_fixed_pedestal_mode():
    fitter = nr.WaveformFitter(ECAL, pedestal="fixed")
    y = np.stack([pulse(300.0, 150.0, 90.0, 95.0), pulse(300.0, 150.0, 200.0, 200.0)])
    r = fitter.fit(y, pedestal=np.array([[90.0, 95.0], [200.0, 200.0]]))
    np.testing.assert_allclose(r.amplitude, 300.0, rtol=1e-5)
    assert r.ndf[0] == 30
    with pytest.raises(ValueError, match="needs pedestal values"):
        fitter.fit(y)
    with pytest.raises(ValueError, match="only used with"):
        FITTER.fit(y, pedestal=100.0)


def test_known_noise_covariance():
    rng = np.random.default_rng(4)
    i, j = np.meshgrid(np.arange(32), np.arange(32))
    cov = 4.0 * 0.5 ** np.abs(i - j)  # correlated noise, rms 2
    white = nr.WaveformFitter(ECAL, noise_cov=4.0 * np.eye(32))
    np.testing.assert_allclose(white.fit(pulse(500.0, 120.0)).amplitude, 500.0, rtol=1e-6)
    fitter = nr.WaveformFitter(ECAL, noise_cov=cov)
    n = 3000
    noise = rng.multivariate_normal(np.zeros(32), cov, n)
    tau = rng.uniform(80.0, 250.0, n)
    w = np.stack([pulse(300.0, t) for t in tau]) + noise
    r = fitter.fit(w)
    r_white = nr.WaveformFitter(ECAL, noise_rms=2.0).fit(w)
    # using the covariance is unbiased and beats pretending the noise is white
    assert abs(np.mean(r.amplitude) - 300.0) < 0.2
    assert np.std(r.amplitude - 300.0) < np.std(r_white.amplitude - 300.0)
    assert 0.9 < np.std((r.amplitude - 300.0) / r.amplitude_err) < 1.1
    with pytest.raises(ValueError, match="positive definite"):
        nr.WaveformFitter(ECAL, noise_cov=-np.eye(32))
    with pytest.raises(ValueError, match="not supported"):
        nr.WaveformFitter(ECAL, noise_cov=np.eye(3))  # the covariance fixes the window length


def test_trigger_window_selects_the_in_time_pulse():
    y = pulse(1000.0, 60.0) + pulse(300.0, 250.0) - 100.0
    r = nr.WaveformFitter(ECAL, trigger_time_ns=250.0, in_time_window_ns=20.0).fit(y)
    assert r.npulses[0] == 2
    assert r.amplitude[0] == pytest.approx(300.0, rel=1e-3)
    assert r.pileup_amplitude[0] == pytest.approx(1000.0, rel=1e-3)
    assert r.pulses.in_time.tolist() == [False, True]
    far = nr.WaveformFitter(ECAL, trigger_time_ns=370.0, in_time_window_ns=10.0).fit(y)
    assert far.flags[0] & FLAGS["out_of_window"]
    assert far.amplitude[0] == pytest.approx(1000.0, rel=1e-3)  # the largest, flagged
    assert not far.pulses.in_time.any()


def test_bad_options_are_reported():
    with pytest.raises(ValueError, match="pedestal must be"):
        nr.WaveformFitter(ECAL, pedestal="median")
    with pytest.raises(ValueError, match="noise_rms must be positive"):
        nr.WaveformFitter(ECAL, noise_rms=0.0)
    with pytest.raises(ValueError, match="max_pulses"):
        nr.WaveformFitter(ECAL, max_pulses=99)
    with pytest.raises(TypeError, match="PulseTemplate"):
        nr.WaveformFitter(np.zeros(10))
    with pytest.raises(ValueError, match=r"shape \(n, W\)"):
        FITTER.fit(np.zeros((2, 3, 32)))


def test_flag_names():
    assert describe_flags(FLAGS["saturated"] | FLAGS["pileup"]) == ["saturated", "pileup"]
