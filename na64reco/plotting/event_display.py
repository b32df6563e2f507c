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
    except (LookupError, ValueError, AttributeError):
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
        norm = im.norm
        for (iy, ix), v in np.ndenumerate(grid):
            if v > 0:
                colour = "black" if norm(v) > 0.6 else "white"  # readable on the colour map
                ax.text(ix, iy, f"{v:.2g}", ha="center", va="center", fontsize=6, color=colour)
    return im


def _straw_geometry(run: int) -> Any:
    try:
        from ..straw import load_geometry
    except ImportError:
        return None
    try:
        return load_geometry(run)
    except (ValueError, OSError):
        return None


def _draw_straws(ax: Axes, event: Any, geometry: Any) -> None:
    hits = _field(event, "straw_hits", None)
    geometry = geometry if geometry is not None else _straw_geometry(int(_field(event, "run", 0)))
    zmin, zmax = -3200.0, 0.0
    if hits is not None and len(hits) and geometry is not None:
        arr = geometry.arrays()
        plane = np.asarray(hits["plane"]).astype(np.int64)
        layer = np.asarray(hits["layer"]).astype(np.int64)
        tube = np.asarray(hits["tube"]).astype(np.int64)
        ok = (plane >= 0) & (plane < len(geometry.names)) & (layer >= 0) & (tube >= 0)
        u, z = geometry.tube_centre(plane[ok], layer[ok], tube[ok])
        radius = np.nan_to_num(np.asarray(hits["radius"], dtype=float)[ok])
        axis = arr["axis"][plane[ok]]
        for a, label, colour in ((0, "x hits", "tab:blue"), (1, "y hits", "tab:orange")):
            sel = axis == a
            if np.any(sel):
                ax.errorbar(z[sel], u[sel], yerr=radius[sel], fmt="o", ms=3, capsize=2, color=colour, label=label)
        zmin, zmax = float(arr["z_mm"].min()) - 200.0, 0.0
    zz = np.linspace(zmin, zmax, 2)
    for pos, slope, label, colour in (("track_x", "track_slope_x", "segment x(z)", "tab:blue"),
                                      ("track_y", "track_slope_y", "segment y(z)", "tab:orange")):
        p0, t = float(_field(event, pos)), float(_field(event, slope))
        if np.isfinite(p0) and np.isfinite(t):
            ax.plot(zz, p0 + t * zz, "-", color=colour, lw=1, label=label)
    ax.set_xlabel("z [mm] (ECAL face at 0)")
    ax.set_ylabel("x or y [mm]")
    ax.set_title(
        f"straws: {int(_field(event, 'n_straw_hits', 0))} hits, {int(_field(event, 'n_segments', 0))} segments",
        fontsize="small",
    )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="x-small", loc="best")


def plot_event(event: Any, *, fig: Figure | None = None, straw_geometry: Any = None) -> Figure:
    """Event display of one reco output row; energies in GeV.

    ``straw_geometry``: a ``na64reco.straw.StrawGeometry`` placing the tubes (default: the
    one valid for the event's run); straw hits are drawn at their tube centres in the x-z
    and y-z views with the drift radius as error bar, and the fitted segment as lines.
    """
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
    _draw_straws(ax_straw, event, straw_geometry)
    status = int(_field(event, "status", 0))
    fig.suptitle(
        f"run {int(_field(event, 'run', 0))}  spill {int(_field(event, 'spill', 0))}  event {int(_field(event, 'event', 0))}"
        f"   trigger 0x{int(_field(event, 'trigger_bits', 0)):x}   status 0x{status:x}"
        f"   signal box: {'yes' if bool(_field(event, 'in_signal_box', False)) else 'no'}"
    )
    return fig
