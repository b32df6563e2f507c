"""``na64reco demo``: simulate, reconstruct and draw a small run in a few seconds."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="simulate a small run, reconstruct it to ROOT and draw an event",
        description="Simulates a few thousand events (fixed seed) into DIR, reconstructs them to DIR/reco.root and "
        "draws an event display and the DQM plots (PNG); prints the summary and where the files are.",
    )
    p.add_argument("--dir", default="na64reco-demo", help="output directory (default ./na64reco-demo)")
    p.add_argument("--events", type=int, default=3000, help="events to simulate (default 3000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="local processes for the reconstruction")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.demo import run_demo

    if args.events < 1:
        raise ValueError(f"--events must be >= 1, got {args.events}")
    try:
        result = run_demo(args.dir, args.events, args.seed, jobs=args.jobs, progress=sys.stderr.isatty())
    except RuntimeError as exc:
        print(f"na64reco demo: {exc}", file=sys.stderr)
        return 1
    print(result.report())
    return 0
