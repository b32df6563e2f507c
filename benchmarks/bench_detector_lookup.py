"""Channel-map lookups: annotate_sadc / annotate_tdc rows per second, and load_setup time.

Usage: PYTHONPATH=$PWD python benchmarks/bench_detector_lookup.py [--rows 5000000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from na64reco.detector import load_setup


def best_of(repeat: int, fn) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (timings scale with it)")
    t_load = best_of(args.repeat, lambda: (load_setup.cache_clear(), load_setup(1500)))
    print(f"load_setup (uncached, maps + geometry + gains + LED): {t_load * 1e3:.1f} ms")
    setup = load_setup(1500)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, setup.sadc_map.nrows, args.rows)
    m = setup.sadc_map
    sadc = {c: m[c][pick] for c in ("source_id", "port", "chip", "channel")}
    t = best_of(args.repeat, lambda: setup.annotate_sadc(sadc))
    print(f"annotate_sadc: {args.rows} rows in {t:.3f} s, {args.rows / t / 1e6:.1f} M rows/s")
    s = setup.straw_map
    pick = rng.integers(0, s.nrows, args.rows)
    tdc = {c: s[c][pick] for c in ("source_id", "port", "chip", "channel")}
    t = best_of(args.repeat, lambda: setup.annotate_tdc(tdc))
    print(f"annotate_tdc:  {args.rows} rows in {t:.3f} s, {args.rows / t / 1e6:.1f} M rows/s")


if __name__ == "__main__":
    main()
