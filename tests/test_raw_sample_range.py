"""Per-digit sample extremes (zero suppression, channel pedestals)."""

from __future__ import annotations

import numpy as np
import pytest

from na64reco.raw import sample_range


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
