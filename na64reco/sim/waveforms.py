"""MSADC waveform synthesis: pulses from templates, pedestals, noise, 12-bit quantisation.

A particle's pulses in all cells of one detector kind share one peak time, so the template
is evaluated once per particle and kind (32 values, linear interpolation on a uniform
0.1 ns resampling of the shipped table) and scaled by the cell amplitudes. The dense part (events x cells x samples) runs in the compiled kernel
``_core.sim.synthesize`` in one pass; ``synthesize_reference`` is the same computation in
numpy, kept as the oracle the tests compare the kernel with.

Noise: fresh unit Gaussians for every sample (xoshiro256** + ziggurat in the kernel, seeded
from the chunk's numpy stream), optionally AR(1)-correlated between consecutive samples,
plus an optional common mode shared by the channels of one ADC chip.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .cells import CELL_KIND, KIND_SLICES, KINDS, N_CELLS
from .config import SimConfig

__all__ = [
    "Template",
    "load_template",
    "ChannelConditions",
    "draw_conditions",
    "NoiseDraw",
    "draw_noise",
    "pulse_shapes",
    "template_grid",
    "synthesize",
    "synthesize_layout",
    "synthesize_reference",
]

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


TEMPLATE_STEP_NS = 0.1


@lru_cache(maxsize=None)
def template_grid(step_ns: float = TEMPLATE_STEP_NS) -> tuple[np.ndarray, np.ndarray, float]:
    """All kinds' templates resampled on one uniform grid for the compiled kernel.

    Returns (values (n_kinds, n_points) float32, t0 (n_kinds,) float64, step).
    """
    tpls = [load_template(k) for k in KINDS]
    spans = [t.times_ns[-1] - t.times_ns[0] for t in tpls]
    n_points = int(np.ceil(max(spans) / step_ns)) + 1
    values = np.zeros((len(KINDS), n_points), dtype=np.float32)
    t0 = np.empty(len(KINDS))
    for k, t in enumerate(tpls):
        t0[k] = t.times_ns[0]
        values[k] = t(t0[k] + step_ns * np.arange(n_points))
    return values, t0, step_ns


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
    values, t0, step = template_grid()
    grid = np.arange(values.shape[1]) * step
    out = np.empty((peak_ns.shape[0], len(KINDS), cfg.n_samples), dtype=np.float32)
    for k in range(len(KINDS)):
        rel = t[None, :] - peak_ns[:, k : k + 1] - t0[k]
        out[:, k, :] = np.interp(rel, grid, values[k], left=0.0, right=0.0)
    return out


@dataclass(frozen=True)
class NoiseDraw:
    """The random numbers behind the noise of a chunk (shared by both implementations)."""

    seed: int  # seed of the white-noise stream drawn by the compiled kernel
    rho: float  # AR(1) coefficient between consecutive samples
    common: np.ndarray | None  # (n_events, n_groups, n_samples) float32 or None
    white_weight: float
    common_weight: float


def draw_noise(rng: np.random.Generator, cfg: SimConfig, n_events: int, n_groups: int) -> NoiseDraw:
    seed = int(rng.integers(0, 2**63))
    f = cfg.noise_common_fraction
    common = rng.standard_normal((n_events, n_groups, cfg.n_samples), dtype=np.float32) if f > 0.0 else None
    return NoiseDraw(seed, cfg.noise_sample_correlation, common, float(np.sqrt(1.0 - f)), float(np.sqrt(f)))


def _core_sim():
    from .._core import sim

    return sim


def synthesize(
    cfg: SimConfig,
    cond: ChannelConditions,
    chip_group: np.ndarray,
    noise: NoiseDraw,
    amplitude: np.ndarray,
    peak_ns: np.ndarray,
    first_particle: np.ndarray,
) -> np.ndarray:
    """Recorded samples (n_events, N_CELLS, n_samples) uint16 (compiled kernel).

    amplitude (P, N_CELLS): template peak heights in ADC counts of every particle in every
    cell; peak_ns (P, n_kinds): its pulse peak time per detector kind; particles sorted by
    event, those of event e at rows first_particle[e]:first_particle[e + 1].
    """
    return _core_sim().synthesize(*_kernel_args(cfg, cond, chip_group, noise, amplitude, peak_ns, first_particle))


def synthesize_layout(
    cfg: SimConfig,
    cond: ChannelConditions,
    chip_group: np.ndarray,
    noise: NoiseDraw,
    amplitude: np.ndarray,
    peak_ns: np.ndarray,
    first_particle: np.ndarray,
    out_row: np.ndarray,
    trigger_row: np.ndarray,
    n_trigger_rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples of ``synthesize`` in the caller's layouts, made in the same pass.

    Returns (samples (n_events, N_CELLS, n_samples) with cell c at row ``out_row[c]`` of its
    event, the sum of every such row mod 2**16 (n_events * N_CELLS,) uint16, and the windows
    of the cells with ``trigger_row[c] >= 0`` at that row of (n_events, n_trigger_rows, n_samples)).
    """
    return tuple(_core_sim().synthesize_layout(
        *_kernel_args(cfg, cond, chip_group, noise, amplitude, peak_ns, first_particle),
        np.ascontiguousarray(out_row, dtype=np.int32),
        np.ascontiguousarray(trigger_row, dtype=np.int32),
        int(n_trigger_rows),
    ))


def _kernel_args(cfg, cond, chip_group, noise, amplitude, peak_ns, first_particle) -> tuple:
    common = group = None
    if noise.common is not None:
        common, group = noise.common, chip_group.astype(np.int32)
    values, t0, step = template_grid()
    return (
        cond.pedestal_row(cfg.n_samples),
        cond.noise_rms.astype(np.float32),
        noise.seed,
        noise.rho,
        # float64: the kernel rounds each amplitude to float32 as it reads it (no converted copy)
        np.ascontiguousarray(amplitude, dtype=np.float64),
        np.ascontiguousarray(peak_ns, dtype=np.float64),
        values,
        t0,
        step,
        cfg.sample_ns,
        CELL_KIND,
        np.ascontiguousarray(first_particle, dtype=np.int64),
        common,
        group,
        noise.white_weight,
        noise.common_weight,
    )


def synthesize_reference(
    cfg: SimConfig,
    cond: ChannelConditions,
    chip_group: np.ndarray,
    noise: NoiseDraw,
    amplitude: np.ndarray,
    peak_ns: np.ndarray,
    first_particle: np.ndarray,
) -> np.ndarray:
    """The same samples as ``synthesize``, in plain numpy (the readable oracle for tests)."""
    s = cfg.n_samples
    n = first_particle.size - 1
    white = _core_sim().noise_windows(noise.seed, n * N_CELLS, s, noise.rho).reshape(n, N_CELLS, s)
    buf = white * np.float32(noise.white_weight)
    if noise.common is not None:
        buf += np.float32(noise.common_weight) * noise.common[:, chip_group, :]
    buf *= cond.noise_rms.astype(np.float32)[None, :, None]
    buf = cond.pedestal_row(s)[None] + buf
    shapes = pulse_shapes(cfg, peak_ns)
    counts = np.diff(first_particle)
    event = np.repeat(np.arange(n), counts)
    rank = np.arange(event.size) - first_particle[event]
    amp = amplitude.astype(np.float32)
    for j in range(int(rank.max(initial=-1)) + 1):
        sel = np.flatnonzero(rank == j)
        ev = event[sel]
        for k, sl in enumerate(KIND_SLICES):
            buf[ev, sl, :] += amp[sel, sl, None] * shapes[sel, k, None, :]
    np.clip(buf, 0, ADC_MAX, out=buf)
    return np.floor(buf + np.float32(0.5)).astype(np.uint16)  # round half up, like the kernel
