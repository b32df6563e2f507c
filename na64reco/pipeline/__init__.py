"""The reconstruction job: chunks of raw files through the chain to one output file.

- ``reconstruct(batch)`` / ``Reconstruction``: one decoded batch -> ``RecoBatch``, the
  columns the output file holds (for notebooks);
- ``run_job(inputs, output, config, jobs=, scheduler=, client=)``: the whole job, as run by
  ``na64reco reco``;
- ``plan_chunks``/``scan_file``: the work unit (whole DATE events of one file);
- ``Accounting``: where every input event went.
"""

from __future__ import annotations

import typing as _typing

from .._lazy import lazy_attributes

# Imported when first used, as in the package above: a worker process that runs chunks
# imports the chain, not the job runner and its output writers.
_LAZY = {
    "Accounting": ".accounting",
    "EVENT_COLUMNS": ".batch",
    "JAGGED_COLUMNS": ".batch",
    "RecoBatch": ".batch",
    "Reconstruction": ".chain",
    "reconstruct": ".chain",
    "Chunk": ".chunks",
    "plan_chunks": ".chunks",
    "read_headers": ".chunks",
    "scan_file": ".chunks",
    "JobResult": ".job",
    "NothingReadError": ".job",
    "StrictModeError": ".job",
    "plan_job": ".job",
    "run_job": ".job",
    "ChunkResult": ".process",
    "process_chunk": ".process",
    "STATUS_BITS": ".status",
}

if _typing.TYPE_CHECKING:
    from . import status
    from .accounting import Accounting
    from .batch import EVENT_COLUMNS, JAGGED_COLUMNS, RecoBatch
    from .chain import Reconstruction, reconstruct
    from .chunks import Chunk, plan_chunks, read_headers, scan_file
    from .job import JobResult, NothingReadError, StrictModeError, plan_job, run_job
    from .process import ChunkResult, process_chunk
    from .status import STATUS_BITS


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY)

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
