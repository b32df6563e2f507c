"""Speed of the reconstruction from fitted pulses to selected events, one core.

Measures clustering + cell calibration + event variables (reconstruct_calo), straw
reconstruction (reconstruct_straws) and the cut flow on toy events (electrons, 20% of them
with an out-of-time pile-up electron). Input generation is not timed.

    PYTHONPATH=$PWD python benchmarks/bench_reco_speed.py [--events 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from na64reco.calo import load_calibration, reconstruct_calo  # noqa: E402
from na64reco.selection import CutFlow  # noqa: E402
from na64reco.selection.synthetic import PARTICLE_ELECTRON, PARTICLE_HADRON, PARTICLE_SIGNAL, toy_events  # noqa: E402
from na64reco.straw import TOY_GEOMETRY, load_geometry, load_rt, reconstruct_straws  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pileup", type=float, default=0.2)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cal, geo, rt = load_calibration(1), load_geometry(path=TOY_GEOMETRY), load_rt()
    rng = np.random.default_rng(1)
    n = args.events
    kinds = rng.choice([PARTICLE_ELECTRON, PARTICLE_SIGNAL, PARTICLE_HADRON], size=n, p=[0.98, 0.01, 0.01])
    pulses, hits, _, present = toy_events(rng, n, cal, geo, rt, particle=kinds, pileup_probability=args.pileup)
    flow = CutFlow.load()

    def run(clock) -> tuple[float, float, float]:
        t0 = clock()
        calo = reconstruct_calo(pulses, n, cal, present=present)
        t1 = clock()
        straws = reconstruct_straws(hits, n, geo, rt)
        t2 = clock()
        flow.apply(calo.events.with_columns(**straws.events.to_dict()))
        t3 = clock()
        return t1 - t0, t2 - t1, t3 - t2

    run(time.perf_counter)  # warm-up
    print(f"events per batch: {n}; pulses/event {pulses.nrows / n:.1f}; straw hits/event {hits.nrows / n:.1f}")
    print(f"load average (1 min) while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    # CPU time of this process is what one core spends; wall time also counts waiting for
    # the core on a shared machine. Both are printed.
    for label, clock in (("wall clock", time.perf_counter), ("process CPU time", time.process_time)):
        times = np.array([run(clock) for _ in range(args.repeat)])
        best = times[np.argmin(times.sum(axis=1))]
        total = best.sum()
        print(f"\n[{label}, best of {args.repeat}]")
        print(f"{'stage':<32}{'us/event':>10}{'events/s':>14}")
        for name, t in zip(("calorimeters (cells+clusters)", "straws", "cut flow"), best):
            print(f"{name:<32}{t / n * 1e6:>10.2f}{n / t:>14,.0f}")
        print(f"{'total':<32}{total / n * 1e6:>10.2f}{n / total:>14,.0f}   (target >= 100,000 events/s)")


if __name__ == "__main__":
    main()
