"""Windows at the limits: a pulse peaking just after the last sample, noise alone, noise
before such a pulse. Each once lost a good pulse or made one up."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco as nr
from na64reco.waveform import FLAGS, load_template, simulate_windows


@pytest.mark.parametrize("kind", ["counter", "srd", "ecal"])
def test_a_pulse_peaking_just_after_the_window_loses_nothing(kind):
    # Its rising edge is the window's largest sample: a fit started there was singular and
    # the whole window came back fit_failed, the pulse before it lost with it (half of the
    # counter windows with such an edge).
    tpl = load_template(kind)
    fitter = nr.WaveformFitter(tpl, noise_rms=2.0)
    rng = np.random.default_rng(5)
    n = 400
    t1 = rng.uniform(100.0, 140.0, n)
    t2 = rng.uniform(385.0, 400.0, n)
    r = fitter.fit(simulate_windows(tpl, np.tile([300.0, 400.0], (n, 1)), np.stack([t1, t2], axis=1), rng=rng))
    assert not np.any(np.asarray(r.flags) & FLAGS["fit_failed"])
    p = r.pulses
    found = np.zeros(n, bool)
    near = (np.abs(p["time_ns"] - t1[p["wave"]]) < 2.0) & (np.abs(p["amplitude"] / 300.0 - 1.0) < 0.05)
    found[p["wave"][near]] = True
    assert found.all()


@pytest.mark.parametrize("kind", ["counter", "veto", "srd", "ecal", "hcal"])
def test_windows_of_noise_hold_no_pulse(kind):
    # A single fit on noise hops between phases; one still hopping after its last hop (or
    # held at the start of its time range) had taken a curvature step meant for a shift under
    # half a phase step, and turned flat noise into pulses of thousands of ADC counts
    # (counters: 10 % of noise windows, 1 % fit_failed).
    tpl = load_template(kind)
    rng = np.random.default_rng(3)
    w = np.clip(np.round(100.0 + rng.normal(0.0, 2.0, (5000, 32))), 0, 4095).astype(np.uint16)
    r = nr.WaveformFitter(tpl, noise_rms=2.0).fit(w)
    assert not np.any(np.asarray(r.flags) & FLAGS["fit_failed"])
    assert np.mean(np.asarray(r.npulses) > 0) < 1e-3
    assert np.all(np.asarray(r.pulses["amplitude"]) < 10 * 2.0)


@pytest.mark.parametrize("kind", ["counter", "veto", "srd", "ecal"])
def test_noise_before_a_pulse_starting_after_the_window_is_no_failure(kind):
    # only the last sample or two see the pulse: the window holds no pulse of its own
    tpl = load_template(kind)
    rng = np.random.default_rng(8)
    n = 600
    amp = np.exp(rng.uniform(np.log(20.0), np.log(3000.0), n))
    r = nr.WaveformFitter(tpl, noise_rms=2.0).fit(
        simulate_windows(tpl, amp[:, None], rng.uniform(388.0, 405.0, n)[:, None], rng=rng))
    assert not np.any(np.asarray(r.flags) & FLAGS["fit_failed"])
    assert np.all(np.asarray(r.pulses["time_ns"]) > 370.0)


@pytest.mark.parametrize("kind", ["counter", "veto", "srd", "ecal", "hcal"])
def test_a_lone_pulse_anywhere_is_found_and_nothing_fails(kind):
    # from 20 ns before the first sample to past the last (2-3 % of the counters' and veto's
    # windows, those peaking just after the window, had failed)
    tpl = load_template(kind)
    rng = np.random.default_rng(11)
    n = 4000
    amp = np.exp(rng.uniform(np.log(15.0), np.log(3800.0), n))
    tau = rng.uniform(-20.0, 400.0, n)
    w = simulate_windows(tpl, amp[:, None], tau[:, None], rng=rng, pedestal_even=100.0, pedestal_odd=104.0)
    r = nr.WaveformFitter(tpl, noise_rms=2.0).fit(w)
    flags = np.asarray(r.flags)
    assert not np.any(flags & FLAGS["fit_failed"])
    p = r.pulses
    found = np.zeros(n, bool)
    near = (np.abs(p["time_ns"] - tau[p["wave"]]) < 3.0) & (np.abs(p["amplitude"] / amp[p["wave"]] - 1.0) < 0.1)
    found[p["wave"][near]] = True
    inside = (tau > 5.0) & (tau < 380.0) & (amp > 40.0) & ~(flags & FLAGS["saturated"]).astype(bool)
    assert found[inside].mean() > 0.998
