"""Pulse templates: the compiled PulseTemplate and the default shapes shipped with the package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._core.waveform import PulseTemplate

__all__ = ["PulseTemplate", "TEMPLATE_KINDS", "load_template", "template_path"]

_DATA = Path(__file__).resolve().parents[1] / "data" / "templates"
TEMPLATE_KINDS = ("ecal", "hcal", "veto", "srd", "counter")


def template_path(kind: str) -> Path:
    """Path of the shipped template file for a detector kind."""
    if kind not in TEMPLATE_KINDS:
        raise ValueError(f"unknown template kind {kind!r}; expected one of {', '.join(TEMPLATE_KINDS)}")
    return _DATA / f"{kind}.txt"


def load_template(kind: str) -> PulseTemplate:
    """The default (peak-normalised, peak at t = 0) template of a detector kind, or of a file.

    ``kind`` is one of ``TEMPLATE_KINDS`` or a path to a text file with two columns
    ``time_ns value`` (``#`` comments allowed).
    """
    path = template_path(kind) if kind in TEMPLATE_KINDS else Path(kind)
    if not path.is_file():
        raise ValueError(
            f"unknown template {kind!r}: neither one of {', '.join(TEMPLATE_KINDS)} nor an existing file"
        )
    table = np.loadtxt(path, comments="#", ndmin=2)
    if table.shape[1] != 2:
        raise ValueError(f"template file {path} has {table.shape[1]} columns, expected 2 (time_ns value)")
    return PulseTemplate(table[:, 0], table[:, 1])
