"""Measured templates: build a channel's pulse shape from many of its recorded waveforms.

Each waveform is fitted with the current template (isolated, unsaturated pulses only), its
pedestal-subtracted samples are divided by the fitted amplitude and placed at the times
``k * sampling - t_fit`` relative to the fitted peak; with pulses at random phases these points
cover the shape densely. Averaging them in fine time bins gives the new shape, which is
re-normalised (peak 1 at t = 0) and used for the next pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fitter import FLAGS, WaveformFitter
from .templates import PulseTemplate

__all__ = ["build_template"]


def _uniform_phase_times(times: np.ndarray, sampling_ns: float) -> np.ndarray:
    """Fitted times with their phases remapped onto a uniform distribution (rank order kept)."""
    phase = np.mod(times, sampling_ns) / sampling_ns
    order = np.argsort(phase, kind="stable")
    uniform = np.empty_like(phase)
    uniform[order] = (np.arange(len(phase)) + 0.5) / len(phase)
    shift = (uniform - phase) * sampling_ns
    shift = np.mod(shift + 0.5 * sampling_ns, sampling_ns) - 0.5 * sampling_ns  # the nearer way round
    return times + shift


def build_template(
    samples: Any,
    initial: PulseTemplate,
    *,
    sampling_ns: float = 12.5,
    noise_rms: float = 2.0,
    iterations: int = 3,
    bin_ns: float = 1.0,
    min_amplitude_sigma: float = 20.0,
    min_entries: int = 5,
    uniform_phase: bool = True,
    leading_samples: int = 6,
) -> PulseTemplate:
    """Template measured from the waveforms ``samples`` ((n, W)) of one channel.

    ``initial`` is the starting shape (a default template); ``iterations`` passes of
    fit-align-average refine it. Only waveforms with a single, unsaturated pulse above
    ``min_amplitude_sigma`` noise sigmas contribute. Time bins with fewer than
    ``min_entries`` points are dropped (the spline bridges them). Pedestals are taken from
    the first ``leading_samples`` samples, so the pulses must start after them; waveforms
    whose leading samples are disturbed are skipped.

    ``uniform_phase``: the beam is asynchronous to the sampling clock, so the true pulse
    phases (time modulo the sampling interval) are uniformly distributed. A fit with an
    imperfect shape biases the time by an amount that depends on the phase, which warps the
    averaged shape periodically and makes plain iteration converge slowly; mapping the
    fitted phases through their empirical distribution onto a uniform one removes that
    bias before averaging.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"samples must have shape (n, W), got {data.shape}")
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    if not bin_ns > 0:
        raise ValueError(f"bin_ns must be positive, got {bin_ns}")
    n, width = data.shape
    k_times = np.arange(width) * sampling_ns
    bad = (
        FLAGS["saturated"] | FLAGS["fit_failed"] | FLAGS["no_pulse"] | FLAGS["negative"]
        | FLAGS["masked_samples"] | FLAGS["pedestal_fitted"]
    )
    template = initial
    for _ in range(iterations):
        # Single-pulse fits: with a poor starting shape every chi2 is large, so pile-up is
        # rejected relative to the bulk (chi2 well above the median) rather than absolutely.
        # Pedestals come from the quiet leading samples: a pedestal fitted jointly would
        # absorb whatever the current shape gets wrong in the tail, and the built tail would
        # keep that error.
        fitter = WaveformFitter(
            template, sampling_ns=sampling_ns, noise_rms=noise_rms, pileup=False,
            pedestal="leading", leading_samples=leading_samples,
        )
        res = fitter.fit(data)
        clean = ((res.flags & bad) == 0) & (res.amplitude > min_amplitude_sigma * noise_rms)
        if clean.sum() >= 10:
            clean &= res.chi2 <= 5.0 * np.median(res.chi2[clean]) + 10.0
        good = clean
        if good.sum() < 10:
            raise ValueError(
                f"only {int(good.sum())} of {n} waveforms have a single clean pulse above "
                f"{min_amplitude_sigma} sigma; cannot build a template"
            )
        amp = res.amplitude[good][:, None]
        ped = np.where(np.arange(width) % 2 == 0, res.pedestal_even[good][:, None], res.pedestal_odd[good][:, None])
        shape_points = (data[good] - ped) / amp
        times = res.time_ns[good]
        if uniform_phase:
            times = _uniform_phase_times(times, sampling_ns)
        rel_times = k_times[None, :] - times[:, None]
        t = rel_times.ravel()
        v = shape_points.ravel()
        lo = np.floor(t.min() / bin_ns) * bin_ns
        edges = np.arange(lo, t.max() + bin_ns, bin_ns)
        idx = np.clip(np.digitize(t, edges) - 1, 0, len(edges) - 2)
        counts = np.bincount(idx, minlength=len(edges) - 1)
        sums = np.bincount(idx, weights=v, minlength=len(edges) - 1)
        centres = 0.5 * (edges[:-1] + edges[1:])
        filled = counts >= min_entries
        if filled.sum() < 8:
            raise ValueError("too few populated time bins to build a template; use more waveforms or wider bins")
        means = sums[filled] / counts[filled]
        new_t = centres[filled]
        template = PulseTemplate(new_t, means)
    return template
