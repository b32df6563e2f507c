"""Pulse templates: normalisation, smooth interpolation, shipped shapes, the template builder."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import na64reco as nr
from na64reco.waveform import TEMPLATE_KINDS, build_template, load_template, simulate_windows


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_shipped_templates_peak_at_zero_with_value_one(kind):
    tpl = load_template(kind)
    assert tpl.value(np.array([0.0]))[0] == pytest.approx(1.0, abs=1e-9)
    assert abs(tpl.derivative(np.array([0.0]))[0]) < 1e-6
    t = np.linspace(tpl.t_min, tpl.t_max, 5001)
    assert tpl.value(t).max() <= 1.0 + 1e-9


@given(scale=st.floats(0.01, 1e4), shift=st.floats(-50.0, 50.0))
def test_template_is_normalised_whatever_the_input_scale_and_origin(scale, shift):
    ref = load_template("ecal")
    t = ref.times_ns
    tpl = nr.PulseTemplate(t + shift, scale * ref.values)
    assert tpl.peak_value == pytest.approx(scale, rel=1e-9)
    assert tpl.peak_shift_ns == pytest.approx(shift, abs=1e-6)
    probe = np.linspace(-20.0, 300.0, 97)
    np.testing.assert_allclose(tpl.value(probe), ref.value(probe), atol=1e-8)


def test_derivative_is_the_slope_of_the_value():
    tpl = load_template("counter")
    t = np.linspace(-15.0, 200.0, 301)
    h = 1e-4
    numeric = (tpl.value(t + h) - tpl.value(t - h)) / (2 * h)
    np.testing.assert_allclose(tpl.derivative(t), numeric, atol=1e-6)


def test_interpolation_is_smooth_between_knots():
    tpl = load_template("ecal")
    t = np.linspace(-20.0, 100.0, 20001)
    d = tpl.derivative(t)
    # continuous first derivative: no jump between neighbouring probes 6 ps apart
    assert np.max(np.abs(np.diff(d))) < 1e-4


def test_outside_the_table_the_template_is_zero():
    tpl = load_template("veto")
    assert tpl.value(np.array([tpl.t_min - 1.0, tpl.t_max + 1.0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("times", "values", "message"),
    [
        ([0, 1, 2], [0, 1, 0], "at least 4"),
        ([0, 1, 2, 3], [0, 1, 0], "equal lengths"),
        ([0, 2, 1, 3], [0, 1, 0.5, 0], "increase strictly"),
        ([0, 1, 2, 3], [0, np.nan, 0.5, 0], "non-finite"),
        ([0, 1, 2, 3], [0, -1, -0.5, 0], "positive peak"),
    ],
)
def test_bad_tables_are_rejected_with_context(times, values, message):
    with pytest.raises(ValueError, match=message):
        nr.PulseTemplate(np.asarray(times, float), np.asarray(values, float))


def test_unknown_template_kind_names_the_choices():
    with pytest.raises(ValueError, match="ecal, hcal"):
        load_template("nonexistent")


def test_template_from_a_file(tmp_path):
    ref = load_template("srd")
    path = tmp_path / "mine.txt"
    np.savetxt(path, np.column_stack([ref.times_ns, 3 * ref.values]), header="time_ns value")
    tpl = load_template(str(path))
    np.testing.assert_allclose(tpl.value(np.array([5.0, 40.0])), ref.value(np.array([5.0, 40.0])), atol=1e-9)


def _shape(tau_rise, tau_decay, step=0.5):
    """(1 - exp(-t/tau_rise))^3 exp(-t/tau_decay), tabulated like tools/make_templates.py."""
    t = np.arange(0.0, 450.0, step)
    v = (1 - np.exp(-t / tau_rise)) ** 3 * np.exp(-t / tau_decay)
    return nr.PulseTemplate(t, v)


def test_template_builder_recovers_a_known_shape_from_jittered_noisy_pulses():
    truth = _shape(11.0, 55.0)
    start = _shape(9.0, 50.0)  # faster rise and decay: the assumed shape is clearly wrong
    rng = np.random.default_rng(2024)
    n = 3000
    amp = rng.uniform(300.0, 2500.0, n)
    tau = rng.uniform(100.0, 150.0, n)  # random phases: the points cover the shape densely
    waves = simulate_windows(truth, amp, tau, rng=rng, noise_rms=2.0, pedestal_even=100.0, pedestal_odd=97.0)
    probe = np.linspace(-25.0, 200.0, 226)
    assert np.abs(start.value(probe) - truth.value(probe)).max() > 0.15
    built = build_template(waves, start, iterations=3, bin_ns=1.0)
    deviation = np.abs(built.value(probe) - truth.value(probe))
    assert deviation.max() < 0.02, f"max deviation {deviation.max():.4f}"
    # the builder's fits with its own template now match the truth
    fit = nr.WaveformFitter(built, pedestal="leading").fit(waves[:200])
    np.testing.assert_allclose(fit.amplitude, amp[:200], rtol=0.02)


def test_template_builder_needs_clean_pulses():
    tpl = load_template("ecal")
    with pytest.raises(ValueError, match="single clean pulse"):
        build_template(np.full((50, 32), 100, dtype=np.uint16), tpl)
