"""``na64reco trigger RUN.dat --output trig.parquet``: firmware emulation on recorded windows."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "trigger",
        help="emulate the trigger firmware on every recorded event and compare with the recorded bits",
        description="Run the C trigger firmware path on the 32-sample windows of every physics "
                    "event and compare its trigger bits (physics, beam, random) with the trigger "
                    "mask recorded in the raw data.",
    )
    p.add_argument("raw", type=Path, help="DATE raw file")
    p.add_argument("--output", "-o", type=Path, help="Parquet file: run, spill, event, recorded_bits, emulated_bits, ...")
    p.add_argument("--config", type=Path, help="trigger register file (default: the shipped default.cfg)")
    p.add_argument("--batch-size", type=int, default=10000, help="events decoded per batch")
    p.add_argument("--show-mismatches", type=int, default=20, metavar="N",
                   help="list at most N mismatching events (default 20)")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when any event disagrees")
    p.set_defaults(func=run)


def _format_table(summary) -> str:
    lines = [f"{'bit':<8} {'recorded':>9} {'emulated':>9} {'both':>9} {'efficiency':>11} {'agreement':>10}"]
    for i in range(len(summary["bit"])):
        eff = summary["efficiency"][i]
        eff_s = "-" if math.isnan(eff) else f"{100 * eff:.2f} %"
        agr = summary["agreement"][i]
        agr_s = "-" if math.isnan(agr) else f"{100 * agr:.2f} %"
        lines.append(f"{summary['name'][i]:<8} {summary['recorded'][i]:>9} {summary['emulated'][i]:>9} "
                     f"{summary['both'][i]:>9} {eff_s:>11} {agr_s:>10}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..firmware import compare_trigger_bits, trigger_table

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    table = trigger_table(args.raw, config=args.config, batch_size=args.batch_size)
    n = len(table["event"])
    summary = compare_trigger_bits(table["recorded_bits"], table["emulated_bits"])
    mismatch = np.flatnonzero(table["recorded_bits"] != table["emulated_bits"])
    print(f"{args.raw}: {n} physics events emulated, {mismatch.size} disagree")
    print(_format_table(summary))
    if mismatch.size:
        print(f"mismatches (run spill event: recorded -> emulated), first {min(args.show_mismatches, mismatch.size)}:")
        for i in mismatch[:args.show_mismatches].tolist():
            print(f"  {table['run'][i]} {table['spill'][i]} {table['event'][i]}: "
                  f"{int(table['recorded_bits'][i]):03b} -> {int(table['emulated_bits'][i]):03b}")
    if args.output is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({k: np.asarray(v) for k, v in table.items()}), args.output)
        print(f"wrote {n} rows to {args.output}")
    return 1 if (args.strict and mismatch.size) else 0
