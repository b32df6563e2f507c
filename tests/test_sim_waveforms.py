"""Waveform synthesis: compiled kernel vs numpy oracle, noise statistics, pulse placement."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from na64reco._core import sim as core_sim
from na64reco.sim import SimConfig
from na64reco.sim.cells import KIND_SLICES, KINDS, N_CELLS
from na64reco.sim.waveforms import (
    ChannelConditions,
    draw_conditions,
    draw_noise,
    load_template,
    synthesize,
    synthesize_reference,
    template_grid,
)

GROUPS = np.arange(N_CELLS) // 16


def _inputs(rng, n_events=64, mean_pileup=2.0, scale=600.0):
    counts = 1 + rng.poisson(mean_pileup, n_events)
    first = np.concatenate([[0], np.cumsum(counts)])
    p = int(first[-1])
    amp = rng.exponential(scale, (p, N_CELLS)) * (rng.random((p, N_CELLS)) < 0.7)
    peak = rng.uniform(-300.0, 400.0, (p, 1)) + rng.normal(0, 5, (p, len(KINDS)))
    return amp, peak, first


@pytest.mark.parametrize(("rho", "common"), [(0.0, 0.0), (0.4, 0.0), (0.0, 0.3), (-0.3, 0.5)])
def test_kernel_equals_numpy_oracle(rho, common):
    rng = np.random.default_rng(7)
    cfg = SimConfig(noise_sample_correlation=rho, noise_common_fraction=common).validate()
    cond = draw_conditions(rng, cfg)
    amp, peak, first = _inputs(rng)
    noise = draw_noise(rng, cfg, first.size - 1, int(GROUPS.max()) + 1)
    fast = synthesize(cfg, cond, GROUPS, noise, amp, peak, first)
    slow = synthesize_reference(cfg, cond, GROUPS, noise, amp, peak, first)
    assert fast.dtype == np.uint16 and fast.shape == (first.size - 1, N_CELLS, 32)
    diff = fast.astype(np.int64) - slow
    # same arithmetic in float32, summed in a different order: a rounding tie may flip
    assert np.abs(diff).max() <= 1
    assert (diff == 0).mean() > 0.999
    assert fast.max() == 4095  # exponential amplitudes reach saturation


def test_noise_windows_are_unit_gaussian_and_ar1_correlated():
    white = core_sim.noise_windows(11, 200_000, 32, 0.0)
    assert abs(white.mean()) < 0.005 and abs(white.std() - 1) < 0.005
    assert abs(np.mean(white**4) - 3.0) < 0.05  # Gaussian kurtosis, tails included
    assert abs(np.mean(np.abs(white) > 3.0) - 0.0026998) < 0.0003
    lag1 = np.mean(white[:, 1:] * white[:, :-1])
    assert abs(lag1) < 0.005
    corr = core_sim.noise_windows(11, 200_000, 32, 0.6)
    assert abs(corr[:, -1].std() - 1) < 0.01  # stationary: unit variance at every sample
    assert abs(np.mean(corr[:, 1:] * corr[:, :-1]) - 0.6) < 0.01
    assert abs(np.mean(corr[:, 2:] * corr[:, :-2]) - 0.36) < 0.01
    again = core_sim.noise_windows(11, 1000, 32, 0.0)
    assert np.array_equal(again, white[:1000])


def test_noiseless_pulse_peaks_at_its_time_with_its_amplitude():
    cfg = SimConfig(noise_rms_adc=0.0, noise_rms_spread=0.0, pedestal_spread=0.0, pedestal_even_odd=0.0).validate()
    cond = draw_conditions(np.random.default_rng(1), cfg)
    amp = np.zeros((1, N_CELLS))
    amp[0, :] = 1000.0
    peak = np.full((1, len(KINDS)), 11 * 12.5)  # exactly on sample 11
    noise = draw_noise(np.random.default_rng(2), cfg, 1, 1)
    out = synthesize(cfg, cond, np.zeros(N_CELLS, dtype=np.int64), noise, amp, peak, np.array([0, 1]))
    assert np.all(out[0].argmax(axis=1) == 11)
    assert np.all(out[0, :, 11] == 150 + 1000)
    # every sample follows the shipped template
    for k, kind in enumerate(KINDS):
        tpl = load_template(kind)
        expect = np.floor(150 + 1000 * tpl(np.arange(32) * 12.5 - 11 * 12.5) + 0.5)
        assert np.array_equal(out[0, KIND_SLICES[k]], np.broadcast_to(expect, out[0, KIND_SLICES[k]].shape))


def test_template_grid_reproduces_the_shipped_tables():
    values, t0, step = template_grid()
    for k, kind in enumerate(KINDS):
        tpl = load_template(kind)
        t = tpl.times_ns
        assert t0[k] == t[0]
        on_grid = np.interp(t, t0[k] + step * np.arange(values.shape[1]), values[k])
        assert np.allclose(on_grid, tpl.values, atol=1e-6)


def test_kernel_rejects_inconsistent_inputs():
    cfg = SimConfig().validate()
    cond = draw_conditions(np.random.default_rng(1), cfg)
    values, t0, step = template_grid()
    ped = cond.pedestal_row(32)
    rms = cond.noise_rms.astype(np.float32)
    kind = np.zeros(N_CELLS, dtype=np.int8)
    good = dict(amplitude=np.zeros((2, N_CELLS), np.float32), peak_ns=np.zeros((2, 5)), first_particle=np.array([0, 1, 2]))

    def call(**kw):
        a = good | kw
        return core_sim.synthesize(ped, rms, 1, 0.0, a["amplitude"], a["peak_ns"], values, t0, step, 12.5,
                                   a.get("kind", kind), a["first_particle"])

    assert call().shape == (2, N_CELLS, 32)
    with pytest.raises(ValueError, match=r"first_particle must run from 0 to 2"):
        call(first_particle=np.array([0, 1, 3]))
    with pytest.raises(ValueError, match=r"first_particle decreases at event 1 \(2 -> 1\)"):
        call(first_particle=np.array([0, 2, 1, 2]), amplitude=np.zeros((2, N_CELLS), np.float32))
    with pytest.raises(ValueError, match=r"amplitude has shape \(3, 123\), expected \(2, 123\)"):
        call(amplitude=np.zeros((3, N_CELLS), np.float32))
    with pytest.raises(ValueError, match=r"kind\[0\] = 7, expected 0..4"):
        call(kind=np.full(N_CELLS, 7, dtype=np.int8))
    with pytest.raises(ValueError, match=r"peak_ns\[0\] = nan, expected a finite time"):
        call(peak_ns=np.full((2, 5), np.nan))
    with pytest.raises(ValueError, match=r"noise_rho = 1"):
        core_sim.synthesize(ped, rms, 1, 1.0, good["amplitude"], good["peak_ns"], values, t0, step, 12.5, kind,
                            good["first_particle"])


def test_nan_amplitudes_cannot_produce_undefined_samples():
    cfg = SimConfig().validate()
    cond = ChannelConditions(np.full(N_CELLS, 100.0), np.full(N_CELLS, 100.0), np.zeros(N_CELLS))
    amp = np.full((1, N_CELLS), np.nan)
    noise = draw_noise(np.random.default_rng(0), cfg, 1, 1)
    out = synthesize(cfg, cond, np.zeros(N_CELLS, dtype=np.int64), noise, amp, np.full((1, 5), 137.5), np.array([0, 1]))
    assert out.dtype == np.uint16 and np.all(out <= 4095)


@given(
    counts=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    scale=st.sampled_from([0.0, 1.0, 100.0, 5000.0]),
    peak_lo=st.floats(-2000.0, 800.0),
    rho=st.sampled_from([0.0, 0.5, -0.7]),
    common=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernel_matches_oracle_on_arbitrary_particle_layouts(counts, scale, peak_lo, rho, common, seed):
    # events without particles, pulses far outside the window, saturation, correlated noise
    rng = np.random.default_rng(seed)
    cfg = SimConfig(noise_sample_correlation=rho, noise_common_fraction=common).validate()
    cond = draw_conditions(rng, cfg)
    first = np.concatenate([[0], np.cumsum(counts)])
    p = int(first[-1])
    amp = rng.exponential(scale, (p, N_CELLS)) if scale else np.zeros((p, N_CELLS))
    peak = rng.uniform(peak_lo, peak_lo + 1000.0, (p, len(KINDS)))
    noise = draw_noise(rng, cfg, len(counts), int(GROUPS.max()) + 1)
    fast = synthesize(cfg, cond, GROUPS, noise, amp, peak, first)
    slow = synthesize_reference(cfg, cond, GROUPS, noise, amp, peak, first)
    assert np.abs(fast.astype(np.int64) - slow).max(initial=0) <= 1
