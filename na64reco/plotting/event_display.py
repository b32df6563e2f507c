"""One event: ECAL (pre-shower and main) and HCAL cell grids with energies, the veto, and
the straw hits with the fitted segment.

Takes one row of the reco output (``read_events(path)[k]``, or ``RecoBatch.to_awkward()[k]``):
the flat columns and the jagged ``cells`` and ``straw_hits``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .style import new_figure

__all__ = ["plot_event", "SADC_PLANES"]

# SADC plane numbers (docs/data-model.md): position in setup.planes.
SADC_PLANES = ("ECAL0", "ECAL1", "HCAL0", "HCAL1", "HCAL2", "HCAL3", "VETO", "SRD", "S1", "S2", "S3", "S4", "V1", "V2")
_SHAPE = {"ECAL0": (6, 6), "ECAL1": (6, 6), "HCAL0": (3, 3), "HCAL1": (3, 3), "HCAL2": (3, 3), "HCAL3": (3, 3), "VETO": (6, 1)}
ECAL_PITCH_MM = 38.2


def _field(event: Any, name: str, default: Any = np.nan) -> Any:
    try:
        return event[name]
    except (KeyError, ValueError, AttributeError):
        return default


def _cells(event: Any) -> dict[str, np.ndarray]:
    cells = _field(event, "cells", None)
    if cells is None:
        return {k: np.zeros(0) for k in ("plane", "x", "y", "energy")}
    return {k: np.asarray(cells[k]) for k in ("plane", "x", "y", "energy")}


def _grid(cells: dict[str, np.ndarray], plane: str) -> np.ndarray:
    nx, ny = _SHAPE[plane]
    grid = np.zeros((ny, nx))
    sel = cells["plane"] == SADC_PLANES.index(plane)
    x, y, e = cells["x"][sel].astype(int), cells["y"][sel].astype(int), cells["energy"][sel].astype(float)
    ok = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
    np.add.at(grid, (y[ok], x[ok]), e[ok] / 1000.0)  # MeV -> GeV
    return grid


def _draw_grid(ax: Axes, grid: np.ndarray, title: str, vmax: float, annotate: bool = True) -> Any:
    shown = np.ma.masked_less_equal(grid, 0.0)
    im = ax.imshow(shown, origin="lower", cmap="inferno", norm=LogNorm(vmin=max(vmax * 1e-4, 1e-3), vmax=max(vmax, 1e-2)))
    ax.set_title(title, fontsize="small")
    ax.set_xticks(range(grid.shape[1]))
    ax.set_yticks(range(grid.shape[0]))
    ax.tick_params(labelsize="x-small")
    ax.set_facecolor("#eeeeee")
    if annotate:
        for (iy, ix), v in np.ndenumerate(grid):
            if v > 0:
                ax.text(ix, iy, f"{v:.2g}", ha="center", va="center", fontsize=6, color="cyan")
    return im


def plot_event(event: Any, *, fig: Figure | None = None, straw_pitch_mm: float = 6.0) -> Figure:
    """Event display of one reco output row; energies in GeV."""
    fig = fig if fig is not None else new_figure((13.0, 7.5))
    gs = fig.add_gridspec(2, 6)
    cells = _cells(event)
    grids = {p: _grid(cells, p) for p in _SHAPE}
    vmax = max(float(g.max()) for g in grids.values()) or 1.0

    ax_prs = fig.add_subplot(gs[0, 0:2])
    ax_ecal = fig.add_subplot(gs[0, 2:4])
    im = _draw_grid(ax_prs, grids["ECAL0"], f"ECAL pre-shower  E={_field(event, 'e_prs'):.3g} GeV", vmax)
    _draw_grid(ax_ecal, grids["ECAL1"], f"ECAL main  E_ECAL={_field(event, 'e_ecal'):.3g} GeV", vmax)
    ex, ey = float(_field(event, "ecal_x")), float(_field(event, "ecal_y"))
    if np.isfinite(ex) and np.isfinite(ey):
        # centre of gravity in mm, cell (0,0) centred at -2.5 pitch
        ax_ecal.plot(ex / ECAL_PITCH_MM + 2.5, ey / ECAL_PITCH_MM + 2.5, "x", color="lime", ms=10, mew=2, label="c.o.g.")
        ax_ecal.legend(loc="upper right", fontsize="x-small")
    fig.colorbar(im, ax=[ax_prs, ax_ecal], label="cell energy [GeV]", shrink=0.8)

    hcal_axes = [fig.add_subplot(gs[0, 4]), fig.add_subplot(gs[0, 5]), fig.add_subplot(gs[1, 4]), fig.add_subplot(gs[1, 5])]
    for k, ax in enumerate(hcal_axes):
        _draw_grid(ax, grids[f"HCAL{k}"], f"HCAL module {k}", vmax)
    hcal_axes[0].set_title(f"HCAL0  E_HCAL={_field(event, 'e_hcal'):.3g} GeV", fontsize="small")

    ax_veto = fig.add_subplot(gs[1, 0])
    veto = grids["VETO"].ravel()
    ax_veto.bar(np.arange(veto.size), veto * 1000.0, color="tab:purple")
    ax_veto.set_xticks(range(veto.size), [f"{m}{'ab'[p]}" for m in range(3) for p in range(2)], fontsize="x-small")
    ax_veto.set_ylabel("MeV", fontsize="small")
    ax_veto.set_title(f"VETO  E={_field(event, 'e_veto') * 1000:.3g} MeV", fontsize="small")

    ax_straw = fig.add_subplot(gs[1, 1:4])
    hits = _field(event, "straw_hits", None)
    if hits is not None and len(hits):
        plane = np.asarray(hits["plane"]).astype(float)
        layer = np.asarray(hits["layer"]).astype(float)
        pos = np.asarray(hits["tube"]).astype(float) * straw_pitch_mm + 0.5 * straw_pitch_mm * layer
        radius = np.nan_to_num(np.asarray(hits["radius"], dtype=float))
        z = plane + 0.3 * layer
        ax_straw.errorbar(z, pos, yerr=radius, fmt="o", ms=4, capsize=2, label="straw hits (drift radius)")
    tx, sx = float(_field(event, "track_x")), float(_field(event, "track_slope_x"))
    if np.isfinite(tx) and np.isfinite(sx):
        zz = np.linspace(-0.5, max(3.5, ax_straw.get_xlim()[1]), 20)
        ax_straw.plot(zz, tx + sx * zz, "-", color="tab:red", label="fitted segment (x)")
    ax_straw.set_xlabel("straw plane (+0.3 x layer)")
    ax_straw.set_ylabel("position [mm]")
    ax_straw.set_title(f"straws: {int(_field(event, 'n_straw_hits', 0))} hits, {int(_field(event, 'n_segments', 0))} segments", fontsize="small")
    if ax_straw.get_legend_handles_labels()[0]:
        ax_straw.legend(fontsize="x-small")

    status = int(_field(event, "status", 0))
    fig.suptitle(
        f"run {int(_field(event, 'run', 0))}  spill {int(_field(event, 'spill', 0))}  event {int(_field(event, 'event', 0))}"
        f"   trigger 0x{int(_field(event, 'trigger_bits', 0)):x}   status 0x{status:x}"
        f"   signal box: {'yes' if bool(_field(event, 'in_signal_box', False)) else 'no'}"
    )
    return fig
