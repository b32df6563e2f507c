"""Keep Python's cyclic garbage collector out of the job's way.

The chain allocates container objects in bursts (uproot serialises every branch's metadata
on each write, numpy makes views by the thousand), and with the default thresholds the
collector runs every 700 net allocations, each time walking every object the imports left
behind (the numpy, awkward, uproot and na64reco modules: hundreds of thousands). The job's
own processes therefore move what exists after start-up to the permanent generation
(``gc.freeze``: it is never walked again) and collect the young generation every 50,000
allocations: on a simulated 3 MHz run 3-6 % of the job (``benchmarks/bench_pipeline.py``,
alternating runs). The chain builds no long-lived cycles, so little waits longer to be
freed. ``job.quiet_collector = false`` leaves the collector alone; Dask workers are never
tuned (their own memory management triggers collections).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["GEN0_THRESHOLD", "quiet_collector", "quiet_collector_for_good"]

GEN0_THRESHOLD = 50_000

_for_good = False


def _quiet() -> tuple[int, int, int]:
    """Freeze what exists and raise the young generation's threshold; the thresholds before."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, before[1], before[2])
    return before


def quiet_collector_for_good() -> None:
    """In a process the job owns (a pool worker): quiet the collector, once."""
    global _for_good
    if not _for_good:
        _quiet()
        _for_good = True


@contextmanager
def quiet_collector(enabled: bool = True) -> Iterator[None]:
    """The same for the duration of a job in the caller's process (a shell run or a
    notebook), restoring the caller's thresholds and unfreezing afterwards."""
    if not enabled or _for_good:
        yield
        return
    before = _quiet()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
