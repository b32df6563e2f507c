"""Stage helpers: trigger windows equal the firmware package's, the quiet-channel test."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as stg

from na64reco.firmware.compare import windows_from_sadc
from na64reco.pipeline.stages import _trigger_windows
from na64reco.raw import sample_range


@given(stg.integers(1, 30), stg.integers(0, 200), stg.integers(1, 40), stg.integers(0, 2**32 - 1))
def test_trigger_windows_equal_the_firmware_reference(n_events, n_digits, width, seed):
    rng = np.random.default_rng(seed)
    event = rng.integers(0, n_events, n_digits)
    channel = rng.integers(0, 113, n_digits)
    _, first = np.unique(event * 113 + channel, return_index=True)  # one digit per channel
    event, channel = event[first], channel[first]
    samples = rng.integers(0, 4096, (event.size, width)).astype(np.uint16)
    nsamples = rng.integers(0, width + 1, event.size)
    np.testing.assert_array_equal(
        _trigger_windows(n_events, event, channel, samples, nsamples),
        windows_from_sadc(n_events, event, channel, samples, nsamples),
    )


def _sample_span(samples, nsamples):
    lo, hi = sample_range(samples, nsamples)
    return hi - lo


def test_sample_span_ignores_padding():
    samples = np.array([[100, 130, 101, 0], [100, 102, 101, 99], [5, 9, 0, 0]], np.uint16)
    nsamples = np.array([3, 4, 0])
    assert _sample_span(samples, nsamples).tolist() == [30, 3, 0]
    full = np.array([4, 4, 4])
    assert _sample_span(samples, full).tolist() == [130, 3, 9]
