"""End-to-end throughput of ``na64reco reco``: events per second, one process then N.

    python benchmarks/bench_pipeline.py                       # simulate 100k events with pile-up
    python benchmarks/bench_pipeline.py --events 20000 --jobs 1 2
    python benchmarks/bench_pipeline.py --raw run.dat         # an existing raw file
    python benchmarks/bench_pipeline.py --rate-hz 3e6 --jobs 1 --repeat 3   # the median of three

Prints, for each --jobs value, the wall time and events/s of the whole job (decode, fits,
calorimeter, straws, trigger emulation, selection and the ROOT output), events/s per core,
the scaling relative to one process, and the time per stage summed over processes. With
--repeat, each job runs that many times (a shared or virtual machine drifts by several per
cent from run to run) and a summary gives the median and the range, and the first run of
the process (which also imports and sets up the stages) apart from the later ones. The input
is read once before the timed jobs (the disk's speed is printed, not counted).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from na64reco.config import JobConfig, load_config  # noqa: E402
from na64reco.pipeline import run_job  # noqa: E402


def simulate_run(path: Path, n_events: int, seed: int, rate_hz: float) -> float:
    from na64reco.sim import simulate

    t0 = time.perf_counter()
    simulate(n_events, seed, path, rate_hz=rate_hz)
    return time.perf_counter() - t0


def read_through(path: Path, block: int = 16 << 20) -> float:
    """Read the whole file (into the page cache); the seconds it took."""
    t0 = time.perf_counter()
    buf = bytearray(block)
    with open(path, "rb", buffering=0) as fh:
        while fh.readinto(buf):
            pass
    return time.perf_counter() - t0


def run_once(raw: Path, work: Path, config: JobConfig, jobs: int, fmt: str, size_mb: float, base: float | None) -> tuple[float, float]:
    """One job over ``raw``; prints its figures and returns (events/s, events per CPU-second)."""
    out = work / f"out-j{jobs}.{fmt}"
    res = run_job([raw], out, config, jobs=jobs, force=True)
    rate = res.accounting.events_read / res.elapsed_s
    base = base or rate
    print(
        f"\n--jobs {jobs}: {res.accounting.events_read:,} events in {res.elapsed_s:.2f} s = {rate:,.0f} events/s"
        f" ({rate / jobs:,.0f} per process, {size_mb / res.elapsed_s:.1f} MB/s), speed-up {rate / base:.2f}x"
    )
    print(
        f"CPU {res.cpu_s:.1f} s = {res.events_per_cpu_second:,.0f} events per CPU-second (one core's rate,"
        f" independent of other load); wall/CPU efficiency {res.cpu_s / (jobs * res.elapsed_s):.0%}"
    )
    print(f"output {out.stat().st_size / res.accounting.events_read:,.0f} bytes/event ({fmt})")
    print("time per stage (s, summed over processes):")
    print(res.stage_breakdown())
    per_event = {k: 1e6 * v / max(res.accounting.events_read, 1) for k, v in res.timings.items()}
    print("  per event (us): " + ", ".join(f"{k} {v:.1f}" for k, v in per_event.items()))
    return rate, res.events_per_cpu_second


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000, help="events to simulate (default 100000)")
    ap.add_argument("--rate-hz", type=float, default=5e6, help="beam rate for the simulated pile-up (default 5e6)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--raw", type=Path, help="use this raw file instead of simulating")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="process counts to time (default 1 2)")
    ap.add_argument("--format", choices=("root", "parquet"), default="root")
    ap.add_argument("--events-per-chunk", type=int, default=None, help="default: the configuration's job.events_per_chunk")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each --jobs value (default 1); >1 adds a median summary")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="na64reco-bench-") as tmp:
        work = Path(tmp)
        if args.raw is not None:
            raw = args.raw
        else:
            raw = work / "run.dat"
            t_sim = simulate_run(raw, args.events, args.seed, args.rate_hz)
            print(f"simulated {args.events:,} events (rate {args.rate_hz:.3g} Hz) in {t_sim:.1f} s")
        size_mb = raw.stat().st_size / 1e6
        print(f"input {raw}: {size_mb:.1f} MB; cores on this machine: {os.cpu_count()}")
        # The input is read once before the timed jobs, so that they measure the
        # reconstruction and not this machine's disk (a file evicted from the page cache
        # took ~1 s more to plan and read in the first job).
        t_read = read_through(raw)
        print(f"input read once beforehand: {t_read:.2f} s ({size_mb / max(t_read, 1e-9):.0f} MB/s)")
        overrides = {"output.format": args.format}
        if args.events_per_chunk is not None:
            overrides["job.events_per_chunk"] = args.events_per_chunk
        config = load_config(overrides=overrides)
        base = None
        runs: dict[int, list[tuple[float, float]]] = {}
        for jobs in args.jobs:
            for _ in range(max(args.repeat, 1)):
                rate, per_cpu = run_once(raw, work, config, jobs, args.format, size_mb, base)
                base = base or rate
                runs.setdefault(jobs, []).append((rate, per_cpu))
        if args.repeat > 1:
            # The job's first run in this process also pays the imports its stages make and
            # their set-up (~0.3-0.5 s, once per process: a few per cent of a 100k-event job);
            # the later ones show the rate per event that a long job or a farm sees.
            print(f"\nover {args.repeat} runs each (median, min-max):")
            for jobs, rs in runs.items():
                rates, cpus = [r for r, _ in rs], [c for _, c in rs]
                print(f"  --jobs {jobs}: {statistics.median(rates):,.0f} events/s ({min(rates):,.0f}-{max(rates):,.0f}),"
                      f" {statistics.median(cpus):,.0f} per CPU-second ({min(cpus):,.0f}-{max(cpus):,.0f})")
            first = runs[args.jobs[0]]
            later = [r for r, _ in first[1:]]
            print(f"  --jobs {args.jobs[0]}, the process's first run {first[0][0]:,.0f} events/s, the later ones"
                  f" median {statistics.median(later):,.0f} ({min(later):,.0f}-{max(later):,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
