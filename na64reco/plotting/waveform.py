"""One channel's 32 samples with the fitted pulses drawn over them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import new_figure

__all__ = ["plot_waveform", "template_curve"]

SAMPLE_NS = 12.5


def template_curve(template: Any) -> tuple[np.ndarray, np.ndarray]:
    """(times relative to the peak in ns, peak-normalised values) of a template.

    Accepts a ``PulseTemplate``-like object (``times_ns``/``values`` attributes), a pair of
    arrays, or a path to a two-column template text file (``na64reco/data/templates``).
    """
    if hasattr(template, "times_ns") and hasattr(template, "values"):
        return np.asarray(template.times_ns, float), np.asarray(template.values, float)
    if isinstance(template, (tuple, list)) and len(template) == 2:
        return np.asarray(template[0], float), np.asarray(template[1], float)
    table = np.loadtxt(template, comments="#", ndmin=2)
    return table[:, 0], table[:, 1]


def plot_waveform(
    samples: Sequence[float] | np.ndarray,
    pulses: dict[str, Sequence[float]] | None = None,
    *,
    template: Any = None,
    pedestal: float | Sequence[float] | None = None,
    title: str = "",
    ax: Axes | None = None,
) -> Figure:
    """Samples (points, t = 12.5 ns x k) and, given ``pulses`` (``amplitude``, ``time_ns``)
    and a ``template``, each fitted pulse and their sum over the pedestal.

    ``pedestal`` is a number, or an (even, odd) pair as NA64 subtracts them.
    """
    s = np.asarray(samples, dtype=float)
    fig = ax.figure if ax is not None else new_figure((7.0, 4.0))
    ax = ax if ax is not None else fig.add_subplot()
    t = SAMPLE_NS * np.arange(s.size)
    ax.plot(t, s, "o", color="black", ms=4, label="samples", zorder=3)
    if pedestal is None:
        ped = np.full(s.size, float(np.median(s[: min(4, s.size)]))) if s.size else s
    elif np.ndim(pedestal) == 0:
        ped = np.full(s.size, float(pedestal))  # type: ignore[arg-type]
    else:
        even, odd = (float(v) for v in pedestal)  # type: ignore[union-attr]
        ped = np.where(np.arange(s.size) % 2 == 0, even, odd)
    ax.plot(t, ped, ":", color="grey", lw=1, label="pedestal")
    if pulses is not None and template is not None and len(pulses.get("amplitude", [])):
        tt, vv = template_curve(template)
        fine = np.linspace(0.0, t[-1] if t.size else 400.0, 800)
        total = np.interp(fine, t, ped) if t.size else np.zeros_like(fine)
        for k, (a, t0) in enumerate(zip(pulses["amplitude"], pulses["time_ns"])):
            shape = float(a) * np.interp(fine - float(t0), tt, vv, left=0.0, right=0.0)
            total = total + shape
            base = np.interp(fine, t, ped)
            ax.plot(fine, base + shape, "--", lw=1.2, label=f"pulse {k + 1}: A={float(a):.0f} t={float(t0):.1f} ns")
        ax.plot(fine, total, "-", color="tab:red", lw=1.6, label="fit (sum)")
    ax.set_xlabel("time [ns]")
    ax.set_ylabel("ADC counts")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small", loc="upper right")
    return fig
