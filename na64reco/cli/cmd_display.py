"""``na64reco display``: event display, waveform or DQM plots to PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "display",
        help="draw an event, a waveform or the DQM histograms to an image",
        description=(
            "INPUT is a raw file (the event is decoded and reconstructed on the fly) or a reco "
            "output (.root/.parquet: the row is read back). --event K is the DATE event number "
            "in the raw file (0-based, file order), or the row of the reco output."
        ),
    )
    p.add_argument("input", help="raw DATE file or reco output")
    p.add_argument("--event", type=int, default=None, help="event K (see above); default: the first physics event")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--waveform", action="store_true", help="draw the largest-amplitude channel's samples and fitted pulses")
    what.add_argument("--dqm", action="store_true", help="draw the standard DQM histograms of a reco output")
    p.add_argument("-c", "--config", help="TOML job configuration")
    p.add_argument("--force", action="store_true", help="overwrite an existing image")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..plotting import draw

    out = Path(args.output)
    if out.exists() and not args.force:
        raise FileExistsError(f"output {out} exists; pass --force to overwrite it")
    config = load_config(args.config)
    if args.dqm:
        fig = draw.dqm_figure(args.input, config)
    elif args.waveform:
        fig = draw.waveform_figure(args.input, args.event, config)
    else:
        fig = draw.event_figure(args.input, args.event, config)
    from ..plotting import save

    save(fig, out)
    print(f"wrote {out}")
    return 0
