"""MSADC waveform synthesis: pulses from templates, pedestals, noise, 12-bit quantisation.

Work is laid out per (event, cell, sample) in float32. A particle's pulses in all cells of
one detector kind share one peak time, so the template is evaluated once per particle and
kind (32 values) and scaled by the cell amplitudes: the dense part is a broadcast multiply.
Pile-up particles are added in layers (the j-th extra particle of every event at once), so
no Python loop runs per event.

Noise: windows of 32 consecutive values are cut at random offsets from a bank of Gaussian
numbers drawn afresh for every chunk (one draw per bank entry, not per sample: the overlap
of two windows, which would correlate them, has probability ~ 64 / bank size per pair).
Optional AR(1) correlation between consecutive samples and a common mode shared by the
channels of one ADC chip.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .cells import KIND_SLICES, KINDS, N_CELLS
from .config import SimConfig

__all__ = ["Template", "load_template", "ChannelConditions", "draw_conditions", "pulse_shapes", "synthesize"]

ADC_MAX = 4095


@dataclass(frozen=True)
class Template:
    """Peak-normalised pulse shape tabulated at times relative to the peak."""

    times_ns: np.ndarray
    values: np.ndarray

    def __call__(self, t_ns: np.ndarray) -> np.ndarray:
        return np.interp(t_ns, self.times_ns, self.values, left=0.0, right=0.0)


@lru_cache(maxsize=None)
def load_template(kind: str) -> Template:
    """The shipped template ``na64reco/data/templates/<kind>.txt`` (the reconstruction's too)."""
    if kind not in KINDS:
        raise ValueError(f"unknown detector kind {kind!r}; kinds are {list(KINDS)}")
    text = resources.files("na64reco").joinpath("data", "templates", f"{kind}.txt").read_text()
    table = np.loadtxt(text.splitlines(), comments="#", ndmin=2)
    if table.shape[1] != 2 or table.shape[0] < 2 or np.any(np.diff(table[:, 0]) <= 0):
        raise ValueError(f"template {kind}.txt: expected two columns with increasing time_ns")
    return Template(table[:, 0].copy(), table[:, 1].copy())


@dataclass(frozen=True)
class ChannelConditions:
    """Per-cell pedestals (even/odd samples) and noise of one run."""

    pedestal_even: np.ndarray  # (N_CELLS,) ADC
    pedestal_odd: np.ndarray
    noise_rms: np.ndarray

    def pedestal_row(self, n_samples: int) -> np.ndarray:
        """(N_CELLS, n_samples) float32 pedestal pattern: samples 0, 2, ... are even."""
        row = np.empty((self.pedestal_even.size, n_samples), dtype=np.float32)
        row[:, 0::2] = self.pedestal_even[:, None]
        row[:, 1::2] = self.pedestal_odd[:, None]
        return row


def draw_conditions(rng: np.random.Generator, cfg: SimConfig) -> ChannelConditions:
    even = cfg.pedestal_mean + cfg.pedestal_spread * rng.standard_normal(N_CELLS)
    odd = even + cfg.pedestal_even_odd * rng.standard_normal(N_CELLS)
    noise = cfg.noise_rms_adc * np.maximum(1.0 + cfg.noise_rms_spread * rng.standard_normal(N_CELLS), 0.1)
    lo, hi = 20.0, 1000.0  # keep pedestals well inside the 12-bit range
    return ChannelConditions(np.clip(even, lo, hi), np.clip(odd, lo, hi), noise)


def pulse_shapes(cfg: SimConfig, peak_ns: np.ndarray) -> np.ndarray:
    """Template values at the samples for pulses peaking at ``peak_ns`` (n, n_kinds).

    Returns (n, n_kinds, n_samples) float32.
    """
    t = np.arange(cfg.n_samples) * cfg.sample_ns
    out = np.empty((peak_ns.shape[0], len(KINDS), cfg.n_samples), dtype=np.float32)
    for k, kind in enumerate(KINDS):
        out[:, k, :] = load_template(kind)(t[None, :] - peak_ns[:, k : k + 1])
    return out


def _add_pulses(buf: np.ndarray, amp: np.ndarray, shapes: np.ndarray) -> None:
    """buf (n, N_CELLS, S) += amp (n, N_CELLS)[..., None] * shapes (n, n_kinds, S) per kind."""
    for k, sl in enumerate(KIND_SLICES):
        buf[:, sl, :] += amp[:, sl, None] * shapes[:, k, None, :]


def _noise(rng: np.random.Generator, cfg: SimConfig, cond: ChannelConditions, chip_group: np.ndarray, n: int):
    s = cfg.n_samples
    bank = rng.standard_normal(cfg.noise_bank_size, dtype=np.float32)
    starts = rng.integers(0, cfg.noise_bank_size - s, size=(n, N_CELLS))
    white = bank[starts[:, :, None] + np.arange(s)]
    rho = cfg.noise_sample_correlation
    if rho != 0.0:
        # stationary AR(1): unit variance at every sample
        scale = np.float32(np.sqrt(1.0 - rho * rho))
        for k in range(1, s):
            white[:, :, k] = np.float32(rho) * white[:, :, k - 1] + scale * white[:, :, k]
    f = cfg.noise_common_fraction
    if f > 0.0:
        n_groups = int(chip_group.max()) + 1
        common = rng.standard_normal((n, n_groups, s), dtype=np.float32)
        white *= np.float32(np.sqrt(1.0 - f))
        white += np.float32(np.sqrt(f)) * common[:, chip_group, :]
    white *= cond.noise_rms.astype(np.float32)[None, :, None]
    return white


def synthesize(
    rng: np.random.Generator,
    cfg: SimConfig,
    cond: ChannelConditions,
    chip_group: np.ndarray,
    trig_amp: np.ndarray,
    trig_peak: np.ndarray,
    pu_event: np.ndarray,
    pu_amp: np.ndarray,
    pu_peak: np.ndarray,
) -> np.ndarray:
    """Recorded samples (n_events, N_CELLS, n_samples) uint16.

    trig_amp (n, N_CELLS), trig_peak (n, n_kinds): the trigger particle's pulses;
    pu_event (m,) sorted, pu_amp (m, N_CELLS), pu_peak (m, n_kinds): pile-up pulses.
    Amplitudes are template peak heights in ADC counts.
    """
    n = trig_amp.shape[0]
    buf = _noise(rng, cfg, cond, chip_group, n)
    buf += cond.pedestal_row(cfg.n_samples)[None]
    _add_pulses(buf, trig_amp.astype(np.float32), pulse_shapes(cfg, trig_peak))
    if pu_event.size:
        shapes = pulse_shapes(cfg, pu_peak)
        amp = pu_amp.astype(np.float32)
        # rank of each pile-up particle inside its event: layer j holds the j-th of every event
        first = np.searchsorted(pu_event, pu_event, side="left")
        rank = np.arange(pu_event.size) - first
        for j in range(int(rank.max()) + 1):
            sel = np.flatnonzero(rank == j)
            ev = pu_event[sel]
            part = buf[ev]
            _add_pulses(part, amp[sel], shapes[sel])
            buf[ev] = part
    np.rint(buf, out=buf)
    np.clip(buf, 0, ADC_MAX, out=buf)
    return buf.astype(np.uint16)
