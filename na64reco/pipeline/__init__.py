"""The reconstruction job: chunks of raw files through the chain to one output file.

- ``reconstruct(batch)`` / ``Reconstruction``: one decoded batch -> ``RecoBatch``, the
  columns the output file holds (for notebooks);
- ``run_job(inputs, output, config, jobs=, scheduler=, client=)``: the whole job, as run by
  ``na64reco reco``;
- ``plan_chunks``/``scan_file``: the work unit (whole DATE events of one file);
- ``Accounting``: where every input event went.
"""

from __future__ import annotations

from . import status
from .accounting import Accounting
from .batch import EVENT_COLUMNS, JAGGED_COLUMNS, RecoBatch
from .chain import Reconstruction, reconstruct
from .chunks import Chunk, plan_chunks, read_headers, scan_file
from .job import JobResult, NothingReadError, StrictModeError, plan_job, run_job
from .process import ChunkResult, process_chunk
from .status import STATUS_BITS

__all__ = [
    "Accounting",
    "Chunk",
    "ChunkResult",
    "EVENT_COLUMNS",
    "JAGGED_COLUMNS",
    "JobResult",
    "NothingReadError",
    "RecoBatch",
    "Reconstruction",
    "STATUS_BITS",
    "StrictModeError",
    "plan_chunks",
    "plan_job",
    "process_chunk",
    "read_headers",
    "reconstruct",
    "run_job",
    "scan_file",
    "status",
]
