"""na64reco: reconstruction for NA64-style missing-energy experiments.

Raw DATE files in, physics out: raw decoding, waveform fits with pile-up resolution,
calorimeter and straw reconstruction, the trigger firmware path, and the job that runs
them from a shell, a notebook or a Dask cluster.
"""

from __future__ import annotations

__version__ = "0.1.0"

import typing as _typing

from . import _cpu  # noqa: F401  (first: refuses a CPU the compiled core was not built for)
from ._core import build_info
from ._lazy import lazy_attributes

# The public names are imported when first used: a job's worker processes import only the
# chain (not the simulation, awkward, pyarrow or uproot), which starts them in about half the
# time, and `import na64reco` costs little until something is used.
_LAZY = {
    "Columns": ".columns",
    "PulseTemplate": ".waveform",
    "WaveformFitter": ".waveform",
    "decode_bytes": ".raw",
    "open_raw": ".raw",
    "reconstruct": ".pipeline",
    "run_job": ".pipeline",
}
# every subpackage and module, as `import na64reco as nr; nr.waveform.load_template(...)` reads it
_SUBMODULES = ("calo", "cli", "columns", "config", "detector", "firmware", "output", "pipeline", "plotting", "raw",
               "selection", "sim", "straw", "waveform")

if _typing.TYPE_CHECKING:
    from . import calo, detector, firmware, selection, sim, straw
    from .columns import Columns
    from .pipeline import reconstruct, run_job
    from .raw import decode_bytes, open_raw
    from .waveform import PulseTemplate, WaveformFitter


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, _SUBMODULES)

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
