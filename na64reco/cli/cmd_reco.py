"""``na64reco reco INPUT... --output out.root``: the reconstruction job."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "reco",
        help="reconstruct raw files into a ROOT (or Parquet) file",
        description=(
            "Decode, fit, cluster, track, emulate the trigger and select, chunk by chunk; "
            "write one row per physics event plus histograms and the event accounting. "
            "Exit status: 0 done, 1 nothing could be read, 2 bad arguments/config/output, "
            "3 strict mode tripped, 130 interrupted."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="raw DATE files, in run order")
    p.add_argument("-o", "--output", required=True, help="output file (.root, or .parquet)")
    p.add_argument("-c", "--config", help="TOML file overriding the package defaults")
    p.add_argument("-j", "--jobs", type=int, default=0,
                   help="local processes; 0 (default): one per CPU this process may run on, at most one per chunk")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--format", choices=("root", "parquet"), help="output format (default: from the file suffix)")
    p.add_argument("--events-per-chunk", type=int, help="DATE events per work unit")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    p.add_argument("--resume", action="store_true", help="keep per-chunk results and reuse them on restart")
    p.add_argument("--strict", action="store_true", help="fail on any unreadable file or decode error")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--timing", action="store_true", help="print the per-stage time breakdown")
    p.set_defaults(func=run)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which batch systems set to the
    slot's cores; all of the machine's where the platform has no such mask)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..pipeline import NothingReadError, StrictModeError, run_job

    overrides: dict[str, object] = {}
    fmt = args.format or ("parquet" if Path(args.output).suffix.lower() in (".parquet", ".pq") else None)
    if fmt:
        overrides["output.format"] = fmt
    if args.events_per_chunk is not None:
        overrides["job.events_per_chunk"] = args.events_per_chunk
    if args.strict:
        overrides["job.strict"] = True
    config = load_config(args.config, overrides)
    if args.jobs < 0:
        raise ValueError(f"--jobs must be >= 0 (0: one per usable CPU), got {args.jobs}")
    jobs = args.jobs or usable_cpus()
    try:
        result = run_job(
            args.inputs,
            args.output,
            config,
            jobs=jobs,
            scheduler=args.scheduler,
            resume=args.resume,
            force=args.force,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except NothingReadError as exc:
        print(f"na64reco reco: {exc}", file=sys.stderr)
        return 1
    except StrictModeError as exc:
        print(f"na64reco reco: {exc}", file=sys.stderr)
        return 3
    print(result.summary())
    if args.timing:
        print("time per stage (summed over processes):")
        print(result.stage_breakdown())
    return 0
