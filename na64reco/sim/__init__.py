"""Parameterised simulation of NA64 runs: raw DATE files with Parquet truth.

``simulate(n_events, seed, "run.dat", truth="truth.parquet", rate_hz=5e6)`` writes a run;
``iter_chunks`` yields the same events in memory; ``SimConfig`` holds every parameter.
See docs/simulation.md for the physics model, the file layout and what is left out.
"""

from __future__ import annotations

from .config import SimConfig
from .readout import Readout
from .run import SimSummary, iter_chunks, simulate
from .straws import RtRelation, load_rt
from .truth import TRUTH_TABLES, read_truth, read_truth_metadata, truth_paths

__all__ = [
    "SimConfig",
    "Readout",
    "SimSummary",
    "iter_chunks",
    "simulate",
    "RtRelation",
    "load_rt",
    "TRUTH_TABLES",
    "read_truth",
    "read_truth_metadata",
    "truth_paths",
]
