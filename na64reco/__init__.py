"""na64reco: reconstruction for NA64-style missing-energy experiments.

Raw DATE files in, physics out: raw decoding, waveform fits with pile-up resolution,
calorimeter and straw reconstruction, the trigger firmware path, and the job that runs
them from a shell, a notebook or a Dask cluster.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import _cpu  # noqa: F401  (first: refuses a CPU the compiled core was not built for)
from ._core import build_info
from .columns import Columns
from . import calo, detector, firmware, selection, sim, straw
from .raw import decode_bytes, open_raw
from .waveform import PulseTemplate, WaveformFitter
from .pipeline import reconstruct, run_job

__all__ = [
    "__version__",
    "build_info",
    "Columns",
    "PulseTemplate",
    "WaveformFitter",
    "calo",
    "decode_bytes",
    "detector",
    "firmware",
    "open_raw",
    "reconstruct",
    "run_job",
    "selection",
    "sim",
    "straw",
]
