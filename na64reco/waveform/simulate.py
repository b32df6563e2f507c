"""Simulated MSADC windows with known truth, for tests, benchmarks and the Cramer-Rao bound."""

from __future__ import annotations

from typing import Any

import numpy as np

from .templates import PulseTemplate

__all__ = ["cramer_rao_bound", "simulate_windows"]


def simulate_windows(
    template: PulseTemplate,
    amplitudes: Any,
    times_ns: Any,
    *,
    rng: np.random.Generator,
    noise_rms: float = 2.0,
    pedestal_even: Any = 100.0,
    pedestal_odd: Any = 100.0,
    sampling_ns: float = 12.5,
    nsamples: int = 32,
    digitize: bool = True,
) -> np.ndarray:
    """Windows of ``nsamples`` samples with pulses of the template on even/odd pedestals.

    ``amplitudes`` and ``times_ns`` are (n,) or (n, k) (k pulses per window; NaN amplitude =
    no pulse). With ``digitize`` the samples are rounded and clipped to 0..4095 (uint16),
    else float64 without clipping.
    """
    amp = np.atleast_1d(np.asarray(amplitudes, dtype=np.float64))
    tau = np.atleast_1d(np.asarray(times_ns, dtype=np.float64))
    if amp.ndim == 1:
        amp, tau = amp[:, None], tau[:, None]
    if amp.shape != tau.shape:
        raise ValueError(f"amplitudes {amp.shape} and times_ns {tau.shape} must have the same shape")
    n = amp.shape[0]
    t = np.arange(nsamples) * sampling_ns
    shape = template.value(t[None, None, :] - tau[:, :, None])
    signal = np.nansum(np.where(np.isnan(amp), 0.0, amp)[:, :, None] * shape, axis=1)
    parity = (np.arange(nsamples) % 2 == 0)[None, :]
    ped = np.where(parity, np.broadcast_to(np.asarray(pedestal_even, dtype=np.float64), (n,))[:, None],
                   np.broadcast_to(np.asarray(pedestal_odd, dtype=np.float64), (n,))[:, None])
    wave = signal + ped + rng.normal(0.0, noise_rms, size=(n, nsamples))
    if digitize:
        return np.clip(np.rint(wave), 0, 4095).astype(np.uint16)
    return wave


def cramer_rao_bound(
    template: PulseTemplate,
    amplitude: Any,
    time_ns: Any,
    *,
    noise_rms: float = 2.0,
    sampling_ns: float = 12.5,
    nsamples: int = 32,
    fit_pedestal: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Cramer-Rao bounds (standard deviations) of amplitude and time of one pulse in white noise.

    Fisher matrix of (amplitude, time[, even pedestal, odd pedestal]) from the template and its
    derivative: J = [T(t_k - tau), -A T'(t_k - tau), even_k, odd_k], F = J^T J / sigma^2.
    """
    amp = np.atleast_1d(np.asarray(amplitude, dtype=np.float64))
    tau = np.atleast_1d(np.asarray(time_ns, dtype=np.float64))
    amp, tau = np.broadcast_arrays(amp, tau)
    t = np.arange(nsamples) * sampling_ns
    x = t[None, :] - tau[:, None]
    cols = [template.value(x), -amp[:, None] * template.derivative(x)]
    if fit_pedestal:
        even = (np.arange(nsamples) % 2 == 0).astype(np.float64)
        cols += [np.broadcast_to(even, x.shape), np.broadcast_to(1.0 - even, x.shape)]
    jac = np.stack(cols, axis=-1)
    fisher = np.einsum("nki,nkj->nij", jac, jac) / noise_rms**2
    cov = np.linalg.inv(fisher)
    return np.sqrt(cov[:, 0, 0]), np.sqrt(cov[:, 1, 1])
