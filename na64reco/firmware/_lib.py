"""cffi (ABI mode) binding of the C firmware library ``libna64fw.so``."""

from __future__ import annotations

import functools
from pathlib import Path

import cffi

__all__ = ["ABI_VERSION", "header_text", "library"]

ABI_VERSION = 5
_PKG = Path(__file__).resolve().parent


def header_text() -> str:
    """The C header as cffi reads it: the installed copy, else the source tree's."""
    for candidate in (_PKG / "na64fw.h", _PKG.parents[1] / "csrc" / "firmware" / "na64fw.h"):
        if candidate.is_file():
            text = candidate.read_text()
            return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    raise RuntimeError(f"na64fw.h not found next to {_PKG} nor in the source tree")


@functools.cache
def library() -> tuple[cffi.FFI, object]:
    """(ffi, lib) for libna64fw.so; raises RuntimeError if missing or of another ABI version."""
    ffi = cffi.FFI()
    ffi.cdef(header_text())
    path = _PKG.parent / "libna64fw.so"
    if not path.is_file():
        raise RuntimeError(f"firmware library {path} not found: build it with tools/dev-build.sh")
    lib = ffi.dlopen(str(path))
    found = int(lib.na64fw_abi_version())
    if found != ABI_VERSION:
        raise RuntimeError(f"{path} has ABI version {found}, this na64reco expects {ABI_VERSION}: rebuild it")
    return ffi, lib
