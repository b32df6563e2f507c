"""Reco output: ROOT (uproot) or Parquet files, written atomically, and reading them back."""

from __future__ import annotations

from .atomic import OutputExistsError
from .histograms import HISTOGRAMS, StandardHistograms
from .reader import read_accounting, read_events, read_histograms
from .writers import open_writer

__all__ = [
    "HISTOGRAMS",
    "OutputExistsError",
    "StandardHistograms",
    "open_writer",
    "read_accounting",
    "read_events",
    "read_histograms",
]
