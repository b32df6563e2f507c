"""The standard data-quality plots of a reco job, from its histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .style import new_figure

__all__ = ["plot_dqm", "plot_ecal_vs_hcal", "plot_cutflow", "plot_hist1d"]


def _edges(h: Any, axis: int = 0) -> np.ndarray:
    return np.asarray(h.axes[axis].edges)


def plot_ecal_vs_hcal(h2: Any, *, box: tuple[float, float] | None = (50.0, 1.0), ax: Axes | None = None) -> Figure:
    """E_HCAL vs E_ECAL (as in the NA64 papers) with the signal box drawn."""
    fig = ax.figure if ax is not None else new_figure((6.0, 5.0))
    ax = ax if ax is not None else fig.add_subplot()
    values = np.asarray(h2.values(), dtype=float)
    xe, ye = _edges(h2, 0), _edges(h2, 1)
    if values.sum() > 0:
        mesh = ax.pcolormesh(xe, ye, np.ma.masked_equal(values.T, 0), norm=LogNorm(vmin=1, vmax=max(values.max(), 1)), cmap="viridis")
        fig.colorbar(mesh, ax=ax, label="events")
    if box is not None:
        ax.add_patch(Rectangle((0, 0), box[0], box[1], fill=False, ec="tab:red", lw=1.5, label="signal box"))
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel("E$_{ECAL}$ [GeV]")
    ax.set_ylabel("E$_{HCAL}$ [GeV]")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    return fig


def plot_hist1d(h: Any, *, ax: Axes, label: str = "", log: bool = True) -> None:
    values = np.asarray(h.values(), dtype=float)
    edges = _edges(h)
    try:
        import mplhep

        mplhep.histplot(values, edges, ax=ax, label=label or None, histtype="step")
    except ImportError:
        ax.stairs(values, edges, label=label or None)
    if log and values.max(initial=0) > 0:
        ax.set_yscale("log")
    ax.set_xlabel(h.axes[0].label)
    ax.set_ylabel("events")


def plot_cutflow(h: Any, *, ax: Axes | None = None) -> Figure:
    """Events remaining after each step of the selection."""
    fig = ax.figure if ax is not None else new_figure((6.0, 4.0))
    ax = ax if ax is not None else fig.add_subplot()
    labels = [str(x) for x in h.axes[0]]
    values = np.asarray(h.values(), dtype=float)
    pos = np.arange(len(labels))
    ax.bar(pos, values, color="tab:blue")
    ax.set_xticks(pos, labels, rotation=40, ha="right", fontsize="small")
    if values.max(initial=0) > 0:
        ax.set_yscale("log")
    ax.set_ylabel("events remaining")
    for x, v in zip(pos, values):
        ax.text(x, v, f"{int(v):,}", ha="center", va="bottom", fontsize="x-small")
    return fig


def plot_dqm(histograms: dict[str, Any], *, box: tuple[float, float] | None = (50.0, 1.0)) -> Figure:
    """Four panels: E_HCAL vs E_ECAL, E_ECAL, pulse times, cut flow."""
    fig = new_figure((12.0, 9.0))
    axes = fig.subplots(2, 2)
    plot_ecal_vs_hcal(histograms["ecal_vs_hcal"], box=box, ax=axes[0, 0])
    plot_hist1d(histograms["e_ecal"], ax=axes[0, 1])
    axes[0, 1].set_title("ECAL energy")
    plot_hist1d(histograms["pulse_time"], ax=axes[1, 0], log=False)
    axes[1, 0].set_title("fitted pulse times")
    if "cutflow" in histograms:
        plot_cutflow(histograms["cutflow"], ax=axes[1, 1])
        axes[1, 1].set_title("cut flow")
    return fig
