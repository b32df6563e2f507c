"""Synthetic calorimeter showers with a known lateral profile, for tests and accuracy studies.

Independent of the C++ core: the profile integral is evaluated here with numpy, so tests can
use it as an oracle. Energies in MeV, positions in mm from the ECAL centre.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["profile_cell_fractions", "ecal_showers", "cells_to_pulses"]


def _cumulative(x: np.ndarray, y: np.ndarray, weights: Sequence[float], widths: Sequence[float]) -> np.ndarray:
    out = np.zeros(np.broadcast(x, y).shape)
    for a, b in zip(weights, widths):
        out += a * (np.arctan(x / b) + np.arctan(y / b) + np.arctan(x * y / (b * np.sqrt(b * b + x * x + y * y))))
    return out / (2 * np.pi)


def profile_cell_fractions(
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    nx: int = 6,
    ny: int = 6,
    pitch_mm: float = 38.2,
    weights: Sequence[float] = (0.83, 0.17),
    widths_mm: Sequence[float] = (5.5, 26.0),
) -> np.ndarray:
    """(n, nx, ny) fraction of each shower's energy in each cell, showers at (x, y)."""
    x = np.atleast_1d(np.asarray(x_mm, dtype=np.float64))[:, None, None]
    y = np.atleast_1d(np.asarray(y_mm, dtype=np.float64))[:, None, None]
    ex = ((np.arange(nx + 1) - 0.5 * nx) * pitch_mm)[None, :, None] - x
    ey = ((np.arange(ny + 1) - 0.5 * ny) * pitch_mm)[None, None, :] - y
    c = _cumulative(ex, ey, weights, widths_mm)
    return c[:, 1:, 1:] - c[:, :-1, 1:] - c[:, 1:, :-1] + c[:, :-1, :-1]


def ecal_showers(
    rng: np.random.Generator,
    energy_mev: np.ndarray,
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    prs_fraction: float = 0.05,
    stochastic: float = 0.09,
    constant: float = 0.01,
    lateral_fluctuation: float = 0.03,
    nx: int = 6,
    ny: int = 6,
    pitch_mm: float = 38.2,
    weights: Sequence[float] = (0.83, 0.17),
    widths_mm: Sequence[float] = (5.5, 26.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Electron showers: (deposits (n, 2, nx, ny) MeV, true visible energy in the grid (n,)).

    The total visible energy fluctuates with sigma/E = stochastic/sqrt(E/GeV) (+) constant
    (the intrinsic resolution); cells share it by the profile with relative lateral
    fluctuations, renormalised so the grid sum is the true visible energy. The pre-shower
    takes a Gamma-distributed fraction with mean prs_fraction of each tower.
    """
    e = np.asarray(energy_mev, dtype=np.float64)
    n = e.size
    frac = profile_cell_fractions(x_mm, y_mm, nx, ny, pitch_mm, weights, widths_mm)
    inside = frac.sum(axis=(1, 2))
    e_gev = np.maximum(e / 1000.0, 1e-6)
    rel = np.hypot(stochastic / np.sqrt(e_gev), constant)
    visible = np.maximum(e * inside * (1.0 + rel * rng.standard_normal(n)), 0.0)
    cells = frac * np.maximum(1.0 + lateral_fluctuation * rng.standard_normal(frac.shape), 0.0)
    norm = cells.sum(axis=(1, 2))
    cells *= (visible / np.where(norm > 0, norm, 1.0))[:, None, None]
    shape = 4.0
    prs = np.clip(rng.gamma(shape, prs_fraction / shape, size=(n, 1, 1)), 0.0, 0.9)
    out = np.empty((n, 2, nx, ny))
    out[:, 0] = cells * prs
    out[:, 1] = cells * (1.0 - prs)
    return out, visible


def cells_to_pulses(
    rng: np.random.Generator,
    deposits_mev: np.ndarray,
    plane_of_cell: np.ndarray,
    x_of_cell: np.ndarray,
    y_of_cell: np.ndarray,
    mev_per_adc: np.ndarray,
    time_ns: np.ndarray,
    time_sigma_ns: float | np.ndarray = 1.0,
    noise_adc: float = 1.5,
    threshold_adc: float = 4.0,
    event_offset: int = 0,
    cell_offset_ns: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Fitted-pulse rows (event, plane, x, y, amplitude, time_ns, time_err) from deposits (n, n_cells).

    Amplitudes get Gaussian noise; only pulses above threshold_adc are kept (what a
    fitter reports); times scatter around time_ns[event] (+ cell_offset_ns[cell], the
    detector's delay) with the given sigma, which grows as 1/amplitude for small pulses.
    """
    n, n_cells = deposits_mev.shape
    amp = deposits_mev / mev_per_adc[None, :] + noise_adc * rng.standard_normal((n, n_cells))
    ev, cell = np.nonzero(amp > threshold_adc)
    a = amp[ev, cell]
    sigma = np.hypot(np.broadcast_to(time_sigma_ns, (n_cells,))[cell], 20.0 / a)
    t = np.asarray(time_ns, dtype=np.float64)[ev] + sigma * rng.standard_normal(a.size)
    if cell_offset_ns is not None:
        t += np.asarray(cell_offset_ns, dtype=np.float64)[cell]
    return {
        "event": (ev + event_offset).astype(np.int64),
        "plane": plane_of_cell[cell].astype(np.int16),
        "x": x_of_cell[cell].astype(np.int16),
        "y": y_of_cell[cell].astype(np.int16),
        "amplitude": a,
        "time_ns": t,
        "time_err": sigma,
    }
