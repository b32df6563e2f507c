"""Write-then-rename: a file at its final name is always a complete one.

Writers produce ``<name>.tmp-<pid>`` beside the target and ``os.replace`` it into place
only after the last byte (histograms and accounting included) is written; an interrupted
job leaves at most a ``.tmp-`` file, which never looks like a finished output.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["OutputExistsError", "check_target", "temporary_name", "commit", "discard"]


class OutputExistsError(FileExistsError):
    """The output path exists and overwriting was not asked for."""


def check_target(path: str | os.PathLike[str], force: bool) -> Path:
    """The target as a Path; refuse an existing file unless ``force``, and a missing directory."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"output {p} is a directory; give a file name such as {p / 'reco.root'}")
    if p.exists() and not force:
        raise OutputExistsError(f"output {p} exists; pass --force (force=True) to overwrite it")
    if not p.parent.exists():
        raise FileNotFoundError(f"output directory {p.parent} does not exist")
    return p


def temporary_name(target: Path) -> Path:
    return target.with_name(f"{target.name}.tmp-{os.getpid()}")


def commit(tmp: Path, target: Path) -> None:
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def discard(tmp: Path) -> None:
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
