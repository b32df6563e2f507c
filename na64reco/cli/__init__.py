"""The ``na64reco`` executable: one program, one subcommand per module ``cmd_*.py`` here.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func`` to a callable taking the parsed arguments and returning the exit status. The CLI
only parses and prints: the work is done by library functions a notebook calls the same way.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="na64reco",
        description="Reconstruction toolkit for NA64-style missing-energy experiments.",
    )
    parser.add_argument("--version", action="version", version=f"na64reco {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader went away (`na64reco info run.dat | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except (ValueError, OSError) as exc:
        print(f"na64reco {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"na64reco {args.command}: interrupted", file=sys.stderr)
        return 130
