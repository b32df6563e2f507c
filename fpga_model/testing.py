"""Test-stream builders and output comparison for the differential tests (numpy only).

``synth_stream`` turns a small description (pedestals, noise seed, pulses, special runs)
into a (113, T) sample array, so property-based tests draw descriptions that shrink to
readable counterexamples; ``first_difference`` explains where two models disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .registers import N_CHANNELS

__all__ = ["Pulse", "StreamSpec", "synth_stream", "first_difference"]


@dataclass(frozen=True)
class Pulse:
    channel: int  # 0..112, or -1 for all beam counters, -2 for all ECAL cells
    start: int  # clock of the first non-zero sample; may be negative or past the end
    amplitude: int  # ADC counts above the pedestal (clipped to 0..4095 in the sum)
    width: int = 3  # rise time constant in clocks
    plateau: int = 0  # clocks the peak value is repeated (a flat top: a tie)


@dataclass(frozen=True)
class StreamSpec:
    length: int
    pedestal: int = 200
    ped_slope: int = 0  # pedestal change over the stream (drift), ADC counts
    noise: int = 0  # noise amplitude (uniform, +-noise)
    seed: int = 0
    pulses: tuple[Pulse, ...] = ()
    runs: tuple[tuple[int, int, int, int], ...] = field(default=())  # (channel, start, length, value)

    def describe(self) -> str:
        p = ", ".join(f"ch{q.channel}@{q.start}x{q.amplitude}/w{q.width}/p{q.plateau}" for q in self.pulses)
        r = ", ".join(f"ch{c}[{s}:{s + n}]={v}" for c, s, n, v in self.runs)
        return (f"T={self.length} ped={self.pedestal}+{self.ped_slope} noise={self.noise} seed={self.seed} "
                f"pulses=[{p}] runs=[{r}]")


def _shape(T: int, start: int, width: int, plateau: int) -> np.ndarray:
    """Integer pulse shape x 1024: (s/w)^2 exp(-s/w) normalised to 1024 at the peak."""
    t = np.arange(T, dtype=np.int64) - start
    s = np.clip(t, 0, None)
    peak_at = 2 * width
    s = np.where(s > peak_at, np.maximum(s - plateau, peak_at), s)
    # integer arithmetic with a lookup of exp in 1/1024 units keeps floats out
    lut = np.array([int(round(1024 * (k / 8.0 / 2) ** 2 * np.exp(2 - k / 8.0)))
                    for k in range(0, 8 * 64)], dtype=np.int64)
    idx = np.minimum(s * 8 // max(width, 1), lut.size - 1)
    return np.where(t >= 0, lut[idx], 0)


def synth_stream(spec: StreamSpec) -> np.ndarray:
    T = spec.length
    rng = np.random.default_rng(spec.seed)
    base = spec.pedestal + (spec.ped_slope * np.arange(T, dtype=np.int64)) // max(T, 1)
    x = np.broadcast_to(base, (N_CHANNELS, T)).astype(np.int64)
    if spec.noise:
        x = x + rng.integers(-spec.noise, spec.noise + 1, size=(N_CHANNELS, T))
    for p in spec.pulses:
        shape = _shape(T, p.start, p.width, p.plateau)
        add = (p.amplitude * shape) // 1024
        if p.channel == -1:
            x[0:3] += add
        elif p.channel == -2:
            x[5:77] += add
        else:
            x[p.channel] += add
    for ch, start, n, value in spec.runs:
        lo, hi = max(start, 0), min(start + n, T)
        if lo < hi:
            x[ch, lo:hi] = value
    return np.clip(x, 0, 4095)


def first_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray], names: tuple[str, ...],
                     label_a: str = "a", label_b: str = "b") -> str | None:
    """None when equal on ``names``, else a one-line description of the first difference."""
    for name in names:
        x = np.asarray(a[name])
        y = np.asarray(b[name])
        if x.shape != y.shape:
            return f"{name}: shape {label_a}={x.shape} {label_b}={y.shape}"
        xi = x.astype(np.uint64).astype(object) if x.dtype == np.uint64 else x.astype(np.int64)
        yi = y.astype(np.uint64).astype(object) if y.dtype == np.uint64 else y.astype(np.int64)
        diff = np.argwhere(np.asarray(xi != yi, dtype=bool))
        if diff.size:
            where = tuple(int(v) for v in diff[0])
            ctx = "clock" if x.ndim == 1 else "channel, clock"
            va, vb = xi[where], yi[where]
            if name == "word":
                va, vb = hex(int(va)), hex(int(vb))
            return f"{name} differs at ({ctx}) {where}: {label_a}={va} {label_b}={vb} ({len(diff)} differences)"
    return None
