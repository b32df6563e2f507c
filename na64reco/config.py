"""Configuration of a reconstruction job: package defaults, overridable by a TOML file.

Everything a job needs that is not in the raw data and not selected by run number from the
detector description (``na64reco.detector``): chunking, waveform fit switches, selection
cuts, trigger registers, output format. A file passed with ``--config`` overrides any
subset of the defaults::

    [cuts]
    file = "my-cuts.txt"   # the cut flow (na64reco.selection format)

    [output]
    format = "parquet"

Every key is validated: an unknown key or a value of the wrong type or range is a
``ConfigError`` (a ``ValueError``) that names the key, what was given and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "JobConfig", "Option", "SCHEMA", "load_config"]


class ConfigError(ValueError):
    """A configuration key is unknown, or its value has the wrong type or range."""


@dataclass(frozen=True)
class Option:
    """One configuration key: its default and what values it allows."""

    default: Any
    kind: str  # "int", "float", "bool", "str", "choice", "path", "float_list"
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("str", "path"):
            return "a string" + (" (file path; empty = package default)" if self.kind == "path" else "")
        noun = {"int": "an integer", "float": "a number", "float_list": "a list of numbers"}[self.kind]
        if self.low is not None or self.high is not None:
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "+inf" if self.high is None else f"{self.high:g}"
            noun += f" in [{lo}, {hi}]"
        return noun

    def check(self, key: str, value: Any) -> Any:
        """The value converted to the option's type, or a ConfigError naming the key."""

        def fail() -> ConfigError:
            return ConfigError(
                f"config key {key!r}: got {value!r} ({type(value).__name__}), expected {self.allowed()}"
                f" ({self.doc})"
            )

        if self.kind == "bool":
            if not isinstance(value, bool):
                raise fail()
            return value
        if self.kind in ("str", "path"):
            if not isinstance(value, str):
                raise fail()
            return value
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise fail()
            return value
        if self.kind == "float_list":
            if not isinstance(value, (list, tuple)) or not value:
                raise fail()
            items = [self._number(key, v, fail, float) for v in value]
            return items
        cast = int if self.kind == "int" else float
        return self._number(key, value, fail, cast)

    def _number(self, key: str, value: Any, fail: Any, cast: type) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail()
        if cast is int and (isinstance(value, float) and not value.is_integer()):
            raise fail()
        number = cast(value)
        if isinstance(number, float) and not math.isfinite(number):
            raise fail()
        if self.low is not None and number < self.low:
            raise fail()
        if self.high is not None and number > self.high:
            raise fail()
        return number


def _opt(default: Any, kind: str, doc: str, **kw: Any) -> Option:
    return Option(default, kind, doc, **kw)


# section -> key -> option. Energies in GeV, times in ns, lengths in mm.
SCHEMA: dict[str, dict[str, Option]] = {
    "job": {
        "events_per_chunk": _opt(10000, "int", "DATE events per work unit (chunk)", low=1, high=10_000_000),
        "strict": _opt(False, "bool", "fail on the first unreadable file or decode error"),
        "keep_freed_memory": _opt(
            True, "bool", "the job's own processes keep freed memory for the next chunk (glibc; never Dask workers)"
        ),
        "quiet_collector": _opt(
            True, "bool", "the job's own processes freeze start-up objects and collect garbage every 50,000 "
            "allocations (never Dask workers)"
        ),
    },
    "detector": {
        "data_dir": _opt("", "path", "directory laid out like na64reco/data whose maps/geometry/gains replace the package's"),
    },
    "waveform": {
        "template_dir": _opt("", "path", "directory of pulse templates overriding na64reco/data/templates"),
        "noise_rms": _opt(2.0, "float", "sample noise in ADC counts", low=0.01, high=1000.0),
        "pileup": _opt(True, "bool", "fit several pulses per channel"),
        "min_amplitude": _opt(4.0, "float", "fitted pulses below this amplitude (ADC counts) are dropped", low=0.0, high=4096.0),
        "leader_hints": _opt(True, "bool", "ECAL windows are first fitted at the pulse times of their event's largest ECAL1 channel (kept where the pile-up prefilter finds nothing suspicious, flag 'hinted'; the rest fitted freely)"),
        "zero_suppress_adc": _opt(10.0, "float", "channels whose even and whose odd recorded samples each span less than this (max - min per ADC phase, ADC counts) hold no pulse and are not fitted (0 = fit every channel)", low=0.0, high=4096.0),
    },
    "timing": {
        "expected_ns": _opt(-1.0, "float", "waveform fit: expected in-time pulse time in the window (-1 = let the fit choose the main pulse)", low=-1.0, high=400.0),
        "window_ns": _opt(25.0, "float", "waveform fit: half width around expected_ns in which a pulse is in time", low=0.0, high=400.0),
    },
    "straw": {
        "rt_file": _opt("", "path", "r(t) relation file overriding the package default"),
    },
    "cuts": {
        "file": _opt("", "path", "cut-flow file (na64reco.selection format); empty = the invisible-mode cuts shipped with the package"),
    },
    "trigger": {
        "registers_file": _opt("", "path", "trigger register file overriding the firmware defaults"),
        "emulate": _opt(True, "bool", "run the firmware emulation on every physics event"),
    },
    "output": {
        "format": _opt("root", "choice", "output file format", choices=("root", "parquet")),
        # as many as a chunk holds events: each chunk's rows are written as they come, without
        # gathering several chunks into one block first (5 % of a 3 MHz job's time with 50000)
        "rows_per_basket": _opt(10000, "int", "rows per ROOT basket / Parquet row group", low=1, high=10_000_000),
        "jagged": _opt(True, "bool", "write the jagged branches (cells, pulses, clusters, straw hits)"),
        "compression": _opt("zstd", "choice", "compression codec", choices=("none", "zlib", "lz4", "zstd")),
    },
}


class JobConfig:
    """Validated job configuration: ``cfg["waveform"]["noise_rms"]`` or ``cfg.get("waveform.noise_rms")``."""

    __slots__ = ("_values", "source")

    def __init__(self, values: Mapping[str, Mapping[str, Any]] | None = None, source: str = "defaults") -> None:
        merged = {sec: {k: opt.default for k, opt in keys.items()} for sec, keys in SCHEMA.items()}
        for section, items in (values or {}).items():
            if section not in SCHEMA:
                raise ConfigError(
                    f"config section {section!r} (from {source}) is unknown; sections are {', '.join(SCHEMA)}"
                )
            if not isinstance(items, Mapping):
                raise ConfigError(f"config section {section!r} (from {source}) must be a table of keys, got {items!r}")
            for key, value in items.items():
                if key not in SCHEMA[section]:
                    raise ConfigError(
                        f"config key {section}.{key} (from {source}) is unknown; keys of [{section}] are "
                        + ", ".join(SCHEMA[section])
                    )
                merged[section][key] = SCHEMA[section][key].check(f"{section}.{key}", value)
        self._values = merged
        self.source = source

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self._values[section]

    def get(self, dotted: str) -> Any:
        section, _, key = dotted.partition(".")
        try:
            return self._values[section][key]
        except KeyError:
            raise ConfigError(f"no config key {dotted!r}") from None

    def replace(self, **dotted: Any) -> "JobConfig":
        """A copy with keys replaced: ``cfg.replace(**{"output.format": "parquet"})``."""
        values = copy.deepcopy(self._values)
        for name, value in dotted.items():
            section, _, key = name.partition(".")
            values.setdefault(section, {})[key] = value
        return JobConfig(values, source=self.source)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._values)

    def digest(self) -> str:
        """Stable hash of every value that can change the output (used by --resume)."""
        text = json.dumps(self._values, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __reduce__(self) -> tuple[Any, ...]:
        return (JobConfig, (self._values, self.source))

    def __repr__(self) -> str:
        return f"JobConfig(source={self.source!r})"


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> JobConfig:
    """Package defaults, then the TOML file at ``path`` (if any), then dotted ``overrides``."""
    values: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}") from None
        try:
            values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
        source = str(p)
    cfg = JobConfig(values, source=source)
    if overrides:
        cfg = cfg.replace(**overrides)
    return cfg
