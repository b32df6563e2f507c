"""Per-digit sample extremes (zero suppression, channel pedestals)."""

from __future__ import annotations

import numpy as np
import pytest

from na64reco.raw import parity_span, parity_span_and_lowest, sample_range


def test_sample_range_is_the_extremes_of_the_recorded_samples():
    rng = np.random.default_rng(4)
    samples = rng.integers(0, 4096, (500, 32)).astype(np.uint16)
    nsamples = rng.integers(-2, 40, 500)
    lo, hi = sample_range(samples, nsamples)
    for i in range(500):
        m = min(max(int(nsamples[i]), 0), 32)
        want = (int(samples[i, :m].min()), int(samples[i, :m].max())) if m else (0, 0)
        assert (lo[i], hi[i]) == want
    with pytest.raises(ValueError, match="one value per digit"):
        sample_range(samples, nsamples[:3])


def test_parity_span_is_the_larger_span_of_the_even_and_the_odd_samples():
    rng = np.random.default_rng(5)
    samples = rng.integers(0, 4096, (500, 32)).astype(np.uint16)
    nsamples = rng.integers(-2, 40, 500)
    span = parity_span(samples, nsamples)
    for i in range(500):
        m = min(max(int(nsamples[i]), 0), 32)
        want = max((int(np.ptp(samples[i, p:m:2])) if m > p else 0) for p in (0, 1))
        assert span[i] == want
    # a quiet channel whose interleaved ADCs sit 20 counts apart has no parity span
    flat = np.tile(np.array([100, 120], np.uint16), 16)[None]
    assert parity_span(flat, np.array([32])).tolist() == [0]
    assert np.ptp(flat) == 20
    with pytest.raises(ValueError, match="one value per digit"):
        parity_span(samples, nsamples[:3])


@pytest.mark.parametrize("count_dtype", [np.uint16, np.int64, np.int32])
def test_parity_span_and_lowest_is_both_from_one_pass(count_dtype):
    rng = np.random.default_rng(6)
    samples = rng.integers(0, 4096, (700, 32)).astype(np.uint16)
    nsamples = rng.integers(0, 40, 700).astype(count_dtype)
    span, lowest = parity_span_and_lowest(samples, nsamples)
    assert np.array_equal(span, parity_span(samples, nsamples.astype(np.int64)))
    assert np.array_equal(lowest, sample_range(samples, nsamples)[0])
    assert (lowest[nsamples == 0] == 0).all() and (nsamples == 0).any()
    # a strided (non-contiguous) count column is read through a copy, with the same result
    wide = np.repeat(nsamples, 2)[::2]
    assert np.array_equal(parity_span_and_lowest(samples, wide)[1], lowest)
    with pytest.raises(ValueError, match="one value per digit"):
        parity_span_and_lowest(samples, nsamples[:3])


def test_parity_span_of_full_rows_over_the_whole_uint16_range():
    # full 32-sample rows take a vectorised path whose signed comparisons need the samples
    # biased: values on both sides of 0x8000 and at the ends of the range must come out right
    rng = np.random.default_rng(7)
    samples = rng.integers(0, 65536, (400, 32)).astype(np.uint16)
    samples[::7] = rng.choice(np.array([0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF], np.uint16), (len(samples[::7]), 32))
    samples[3] = 0xFFFF
    nsamples = np.full(400, 32)
    nsamples[::5] = 40  # beyond the row: all 32 recorded
    span, lowest = parity_span_and_lowest(samples, nsamples)
    s = samples.astype(np.int64)
    want_span = np.maximum(np.ptp(s[:, 0::2], axis=1), np.ptp(s[:, 1::2], axis=1))
    assert np.array_equal(span, want_span)
    assert np.array_equal(lowest, s.min(axis=1))
    assert span[3] == 0 and lowest[3] == 0xFFFF
