"""Trigger configuration files: ``NAME = value`` lines -> validated register values.

Syntax (one assignment per line, ``#`` starts a comment)::

    PED_SHIFT       = 3
    GAIN_ECAL1      = 4000        # every ECAL1 cell
    GAIN_ECAL1[14]  = 4120        # one cell (applied after the whole-register value)
    RANDOM_SEED     = 0xACE1

Values are integers (decimal or 0x hex) holding the raw register contents; the formats and
legal ranges are the register map in docs/firmware.md (``fpga_model.registers``). Registers
not named keep their defaults.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np

from fpga_model.registers import REGISTER_BY_NAME, TriggerConfig

__all__ = ["load_trigger_config", "parse_trigger_config", "default_config_path"]

_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*([^\]]*)\s*\])?\s*=\s*(\S+)\s*$")


def default_config_path() -> Path:
    return Path(str(resources.files("na64reco") / "data" / "trigger" / "default.cfg"))


def load_trigger_config(path: str | Path | None = None) -> TriggerConfig:
    """Read a trigger configuration file (default: ``na64reco/data/trigger/default.cfg``)."""
    p = Path(path) if path is not None else default_config_path()
    try:
        text = p.read_text()
    except OSError as exc:
        raise OSError(f"cannot read trigger configuration {p}: {exc.strerror or exc}") from exc
    return parse_trigger_config(text, source=str(p))


def _int(token: str, where: str) -> int:
    try:
        return int(token, 0)
    except ValueError:
        raise ValueError(f"{where}: value {token!r} is not an integer (decimal or 0x hex)") from None


def parse_trigger_config(text: str, source: str = "<string>") -> TriggerConfig:
    whole: dict[str, int] = {}
    single: dict[tuple[str, int], int] = {}
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{lineno}"
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"{where}: expected 'NAME = value' or 'NAME[index] = value', got {line!r}")
        name, index, value = m.group(1), m.group(2), m.group(3)
        reg = REGISTER_BY_NAME.get(name)
        if reg is None:
            raise ValueError(f"{where}: unknown trigger register {name!r}")
        key = name if index is None else f"{name}[{index.strip()}]"
        if key in seen:
            raise ValueError(f"{where}: {key} is already set on line {seen[key]}")
        seen[key] = lineno
        v = _int(value, where)
        if not reg.lo <= v <= reg.hi:
            raise ValueError(f"{where}: register {key} ({reg.fmt}) = {v} is out of range, legal {reg.lo}..{reg.hi}")
        if index is None:
            whole[name] = v
        else:
            if reg.count == 1:
                raise ValueError(f"{where}: register {name} is not indexed")
            i = _int(index.strip(), where)
            if not 0 <= i < reg.count:
                raise ValueError(f"{where}: index {i} of {name} out of range, legal 0..{reg.count - 1}")
            single[(name, i)] = v
    values: dict[str, object] = {}
    for name, v in whole.items():
        reg = REGISTER_BY_NAME[name]
        values[name] = np.full(reg.count, v, dtype=np.int64) if reg.count > 1 else v
    for (name, i), v in single.items():
        reg = REGISTER_BY_NAME[name]
        arr = np.array(values.get(name, np.full(reg.count, reg.default, dtype=np.int64)), dtype=np.int64)
        arr[i] = v
        values[name] = arr
    return TriggerConfig(values)
