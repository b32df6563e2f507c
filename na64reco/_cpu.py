"""Refuse to load a compiled core built for CPU features this machine lacks.

By default the core is compiled for x86-64-v3 (AVX2, FMA, BMI2) when the build machine runs
it (``NA64RECO_ARCH`` in CMakeLists.txt). A copy of that build on an older CPU would die on
the first illegal instruction; this check turns that into an ImportError that says what to
do. The build records its needs in ``_build_arch.py``; on Linux the CPU's come from
/proc/cpuinfo (elsewhere nothing is checked).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["check_cpu", "missing_cpu_flags"]


def _linux_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    # the first processor's flags line is enough (all cores of a node share the features):
    # reading on to the end costs a many-core node ~1 ms of every import
    try:
        with cpuinfo.open(errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return set(value.split())
    except OSError:
        return None
    return None


def missing_cpu_flags(needed: tuple[str, ...], cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The features in ``needed`` that the CPU described by ``cpuinfo`` lacks ([] when it
    cannot be told)."""
    have = _linux_cpu_flags(cpuinfo)
    if have is None:
        return []
    return [f for f in needed if f not in have]


def check_cpu(needed: tuple[str, ...] | None = None, arch: str = "", cpuinfo: Path = Path("/proc/cpuinfo")) -> None:
    """ImportError when the CPU lacks a feature the build needs (by default what
    ``_build_arch.py`` recorded; nothing recorded, nothing to check)."""
    if needed is None:
        try:
            from ._build_arch import ARCH, CPU_FLAGS
        except ImportError:  # not built by CMakeLists.txt
            return
        needed, arch = tuple(CPU_FLAGS), ARCH
    missing = missing_cpu_flags(needed, cpuinfo)
    if missing:
        raise ImportError(
            f"na64reco's compiled core was built for {arch}, which needs the CPU features {', '.join(needed)}; "
            f"this CPU lacks {', '.join(missing)}. Rebuild it for this machine: "
            "pip install . -Ccmake.define.NA64RECO_ARCH=none"
        )


check_cpu()
