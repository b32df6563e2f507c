"""The error raised for bad detector configuration files."""

from __future__ import annotations

from os import PathLike

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """A configuration file is wrong; the message starts with ``file:line:`` when it can."""

    def __init__(self, message: str, path: str | PathLike[str] | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line
