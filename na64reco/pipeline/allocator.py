"""Keep the memory a chunk frees for the next chunk (glibc's malloc).

A chunk's arrays (tens of MB of samples, fitted pulses, cells) are freed when the chunk is
done and the next chunk asks for the same sizes again. By default glibc gives large blocks
back to the system (``munmap``, or trimming the top of the heap) and every chunk then
faults its pages in afresh, which the kernel must zero first: on a 3 MHz simulated run that
cost 4-8 % of the job (``benchmarks/bench_pipeline.py``, alternating runs). The job's own
processes (the serial runner and the local pool's workers) therefore raise the mmap and
trim thresholds once; ``job.keep_freed_memory = false`` leaves the allocator alone. Dask
workers are never tuned: their memory manager watches the resident size and wants freed
memory returned.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory"]

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from the heap (glibc's largest allowed mmap threshold on 64-bit
# systems); freed memory at the top of the heap is kept up to the trim threshold.
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 1 << 30

_tuned = False


def keep_freed_memory() -> bool:
    """Raise this process's malloc thresholds once; False where the C library is not glibc."""
    global _tuned
    if _tuned:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _tuned = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return _tuned
