"""Figure creation and saving shared by the plotting functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

__all__ = ["new_figure", "save", "hep_style"]


def hep_style() -> dict[str, Any]:
    """The mplhep ROOT-like style when mplhep is installed, else matplotlib's defaults."""
    try:
        import mplhep
    except ImportError:
        return {}
    style = mplhep.style.ROOT
    merged: dict[str, Any] = {}
    for part in style if isinstance(style, list) else [style]:
        if isinstance(part, dict):
            merged.update(part)
    return merged


def new_figure(figsize: tuple[float, float]) -> Figure:
    return Figure(figsize=figsize, layout="constrained")


def save(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write the figure (format from the suffix, PNG usually); returns the path."""
    p = Path(path)
    fig.savefig(p, dpi=dpi)
    return p
