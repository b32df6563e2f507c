"""Stage helpers: the trigger's digit entry and channel map, the quiet-channel test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as stg

from na64reco.firmware import trigger_bits_digit_rows, trigger_bits_digits, trigger_bits_windows
from na64reco.firmware.compare import digit_window_rows, trigger_channel, windows_from_sadc
from na64reco.pipeline.stage_common import SADC_PLANE_NAMES
from na64reco.firmware import load_trigger_config
from na64reco.raw import parity_span, sample_range

EVERY_BEAM = load_trigger_config(None).replace(BEAM_PRESCALE=1)  # the beam bit on every counter coincidence


def _pulsed_digits(rng, n_events, n_digits, width):
    """Digits of random events and channels (duplicates included), flat near 150 ADC with a
    pulse in half of them, plus S1-S3 pulsed together in a third of the events (beam
    coincidences)."""
    beam = np.flatnonzero(rng.random(n_events) < 1 / 3)
    event = np.sort(np.concatenate([rng.integers(0, n_events, n_digits), np.repeat(beam, 3)]))
    n = event.size
    channel = rng.integers(0, 113, n)
    start = rng.integers(0, width, n)
    height = np.where(rng.random(n) < 0.5, rng.uniform(50, 3000, n), 0.0)
    for e, when in zip(beam.tolist(), rng.integers(0, max(width - 8, 1), beam.size).tolist()):
        rows = np.flatnonzero(event == e)[-3:]
        channel[rows], start[rows], height[rows] = (0, 1, 2), when, 2000.0
    t = np.clip(np.arange(width)[None, :] - start[:, None], 0, None)
    samples = np.clip(150 + rng.integers(0, 5, (n, width)) + height[:, None] * t * np.exp(-t / 2.0) / 0.74, 0, 4095)
    nsamples = np.where(rng.random(n) < 0.1, rng.integers(0, width + 1, n), width)
    return event, channel, samples.astype(np.uint16), nsamples


@given(stg.integers(1, 30), stg.integers(0, 300), stg.sampled_from([1, 8, 31, 32, 40]), stg.integers(0, 2**32 - 1))
def test_digit_entry_equals_the_dense_windows(n_events, n_digits, width, seed):
    rng = np.random.default_rng(seed)
    event, channel, samples, nsamples = _pulsed_digits(rng, n_events, n_digits, width)
    dense = trigger_bits_windows(windows_from_sadc(n_events, event, channel, samples, nsamples, width), EVERY_BEAM)
    first = np.searchsorted(event, np.arange(n_events + 1))
    sparse = trigger_bits_digits(first, channel, digit_window_rows(samples, nsamples, width), EVERY_BEAM)
    np.testing.assert_array_equal(sparse, dense)


@given(stg.integers(1, 30), stg.integers(0, 300), stg.sampled_from([32, 40]), stg.integers(0, 2**32 - 1))
def test_digit_rows_entry_reads_the_rows_in_place(n_events, n_digits, width, seed):
    # the digits' rows picked by index from a shuffled table of wider rows: the same bits as
    # the digit entry on copied rows
    rng = np.random.default_rng(seed)
    event, channel, samples, _ = _pulsed_digits(rng, n_events, n_digits, width)
    first = np.searchsorted(event, np.arange(n_events + 1))
    order = rng.permutation(samples.shape[0])
    table = np.ascontiguousarray(samples[order])
    index = np.argsort(order)  # digit r is table row index[r]
    bits = trigger_bits_digit_rows(first, channel, table, index, 32, EVERY_BEAM)
    expected = trigger_bits_digits(first, channel, np.ascontiguousarray(samples[:, :32]), EVERY_BEAM)
    np.testing.assert_array_equal(bits, expected)


def test_digit_rows_entry_rejects_bad_rows():
    rng = np.random.default_rng(4)
    event, channel, samples, _ = _pulsed_digits(rng, 50, 500, 32)
    first = np.searchsorted(event, np.arange(51))
    index = np.arange(samples.shape[0])
    with pytest.raises(ValueError, match="row_index: a row beyond"):
        trigger_bits_digit_rows(first, channel, samples, np.where(index == 3, samples.shape[0], index), 32)
    bad = samples.copy()
    bad[9, 4] = 4096
    with pytest.raises(ValueError, match=r"sample 4096 at \(digit 9, sample 4\)"):
        trigger_bits_digit_rows(first, channel, bad, index, 32)
    with pytest.raises(ValueError, match="n_samples"):
        trigger_bits_digit_rows(first, channel, samples, index, 33)
    with pytest.raises(ValueError, match="C-contiguous uint16"):
        trigger_bits_digit_rows(first, channel, samples.astype(np.int32), index, 32)


def test_digit_entry_fires_and_rejects_bad_digits():
    rng = np.random.default_rng(3)
    event, channel, samples, nsamples = _pulsed_digits(rng, 200, 4000, 32)
    first = np.searchsorted(event, np.arange(201))
    rows = digit_window_rows(samples, nsamples)
    bits = trigger_bits_digits(first, channel, rows, EVERY_BEAM)
    assert np.any(bits != 0)
    with pytest.raises(ValueError, match="channel: 113 at row 7"):
        trigger_bits_digits(first, np.where(np.arange(channel.size) == 7, 113, channel), rows)
    bad = rows.copy()
    bad[9, 4] = 4096
    with pytest.raises(ValueError, match=r"sample 4096 at \(row 9, sample 4\)"):
        trigger_bits_digits(first, channel, bad)
    with pytest.raises(ValueError, match="must not decrease"):
        trigger_bits_digits(first[::-1], channel, rows)
    with pytest.raises(ValueError, match="samples per digit"):
        trigger_bits_digits(first, channel, np.zeros((rows.shape[0], 65), np.uint16))
    assert trigger_bits_digits(np.zeros(1, np.int64), channel[:0], rows[:0]).size == 0


def test_digit_window_rows_extend_short_digits():
    samples = np.array([[5, 6, 7, 8], [5, 6, 7, 8], [9, 9, 9, 9]], np.uint16)
    rows = digit_window_rows(samples, np.array([2, 4, 0]), width=6)
    assert rows.tolist() == [[5, 6, 6, 6, 6, 6], [5, 6, 7, 8, 8, 8], [0, 0, 0, 0, 0, 0]]


@given(stg.integers(0, 2**32 - 1))
def test_trigger_channel_follows_the_channel_map(seed):
    rng = np.random.default_rng(seed)
    n = 500
    plane = rng.integers(-1, len(SADC_PLANE_NAMES) + 1, n)
    x, y = rng.integers(-1, 7, n), rng.integers(-1, 7, n)
    counters = {"S1": 0, "S2": 1, "S3": 2, "V1": 3, "V2": 4}
    expected = []
    for p, i, j in zip(plane.tolist(), x.tolist(), y.tolist()):
        name = SADC_PLANE_NAMES[p] if 0 <= p < len(SADC_PLANE_NAMES) else ""
        if name in counters:
            expected.append(counters[name])
        elif name in ("ECAL0", "ECAL1") and 0 <= i < 6 and 0 <= j < 6:
            expected.append(5 + 36 * (name == "ECAL1") + 6 * i + j)
        elif name.startswith("HCAL") and 0 <= i < 3 and 0 <= j < 3:
            expected.append(77 + 9 * int(name[4:]) + 3 * i + j)
        else:
            expected.append(-1)
    assert trigger_channel(SADC_PLANE_NAMES, plane, x, y).tolist() == expected


def test_quiet_channel_span_is_per_adc_phase_and_ignores_padding():
    # the fit stage's quiet-channel test: parity_span < waveform.zero_suppress_adc
    samples = np.array([[100, 130, 101, 0], [100, 102, 101, 99], [5, 9, 0, 0], [100, 120, 101, 121]], np.uint16)
    nsamples = np.array([3, 4, 0, 4])
    # row 3: interleaved ADCs 20 counts apart, no pulse
    assert parity_span(samples, nsamples).tolist() == [1, 3, 0, 1]
    lo, hi = sample_range(samples, nsamples)
    assert (hi - lo).tolist() == [30, 3, 0, 21]
    full = np.array([4, 4, 4, 4])
    assert parity_span(samples, full).tolist() == [130, 3, 9, 1]
