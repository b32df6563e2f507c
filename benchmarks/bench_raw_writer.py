"""Raw writer throughput: events/s and MB/s for physics events of N MSADC digits.

Usage: PYTHONPATH=$PWD python benchmarks/bench_raw_writer.py [--events 50000] [--digits 100]
"""

from __future__ import annotations

import argparse
import io
import os
import time

import numpy as np

from na64reco.raw import write_raw


def make_tables(n_events: int, digits: int, tdc_hits: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    events = dict(
        run=np.full(n_events, 3000), spill=np.ones(n_events, dtype=np.int64),
        event_in_run=np.arange(1, n_events + 1), event_in_spill=np.arange(1, n_events + 1),
        type=np.full(n_events, 7), trigger_mask=np.ones(n_events, dtype=np.int64),
        time=np.full(n_events, 1_700_000_000),
    )
    n = n_events * digits
    cell = np.tile(np.arange(digits), n_events)
    sadc = dict(
        event=np.repeat(np.arange(n_events), digits), source_id=600 + cell // 64,
        port=(cell // 16) % 4, chip=np.zeros(n, dtype=np.int64), channel=cell % 16,
        nsamples=np.full(n, 32), samples=rng.integers(0, 4096, size=(n, 32), dtype=np.uint16),
    )
    m = n_events * tdc_hits
    tdc = dict(
        event=np.repeat(np.arange(n_events), tdc_hits), source_id=np.full(m, 160),
        port=rng.integers(0, 8, m), chip=rng.integers(0, 8, m), channel=rng.integers(0, 8, m),
        raw_time=rng.integers(0, 65536, m), trigger_time=np.full(m, 100),
    )
    return events, sadc, tdc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--digits", type=int, default=100)
    ap.add_argument("--tdc-hits", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    events, sadc, tdc = make_tables(args.events, args.digits, args.tdc_hits)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (timings scale with it)")
    for label, kw in [("plain", {}), ("super events + multiplexer", dict(super_events=True, multiplexed_sources=[[600, 601]]))]:
        best = best_cpu = np.inf
        for _ in range(args.repeat):
            sink = io.BytesIO()
            t0, c0 = time.perf_counter(), time.process_time()
            nbytes = write_raw(sink, events, sadc, tdc, **kw)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        # CPU time of this process is the figure that survives a shared, loaded machine
        print(f"{label:28s} {args.events} events x {args.digits} digits + {args.tdc_hits} F1 hits: "
              f"wall {best:.3f} s ({args.events / best:,.0f} events/s, {nbytes / best / 1e6:,.0f} MB/s), "
              f"cpu {best_cpu:.3f} s ({args.events / best_cpu:,.0f} events/cpu-s)")


if __name__ == "__main__":
    main()
