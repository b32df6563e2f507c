"""The trigger's configuration registers: names, ap_fixed formats, legal ranges, defaults.

This table is the single source of truth for the register map in docs/firmware.md; the
configuration-file loader in ``na64reco.firmware`` validates against it and the C path's
``na64fw_config`` struct has one field per entry.

Channel layout of the trigger input (113 channels, fixed order): beam counters S1, S2, S3;
veto counters V1, V2; ECAL0 (pre-shower) cells 0..35; ECAL1 (main) cells 0..35; HCAL cells
0..35. A calorimeter cell index is ``6*x + y`` for ECAL and ``9*module + 3*x + y`` for HCAL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "COUNTER_NAMES",
    "N_COUNTERS",
    "N_BEAM",
    "N_VETO",
    "N_ECAL0",
    "N_ECAL1",
    "N_HCAL",
    "N_CALO",
    "N_CHANNELS",
    "CALO_GROUPS",
    "ENERGY_LSB_MEV",
    "Register",
    "REGISTERS",
    "REGISTER_BY_NAME",
    "TriggerConfig",
]

COUNTER_NAMES = ("S1", "S2", "S3", "V1", "V2")
N_BEAM = 3
N_VETO = 2
N_COUNTERS = N_BEAM + N_VETO
N_ECAL0 = 36
N_ECAL1 = 36
N_HCAL = 36
N_CALO = N_ECAL0 + N_ECAL1 + N_HCAL
N_CHANNELS = N_COUNTERS + N_CALO
# calorimeter groups: name -> (first calo index, count); calo index = channel - N_COUNTERS
CALO_GROUPS = {"ECAL0": (0, N_ECAL0), "ECAL1": (N_ECAL0, N_ECAL1), "HCAL": (N_ECAL0 + N_ECAL1, N_HCAL)}
# one unit of channel energy and of every sum register
ENERGY_LSB_MEV = 8


@dataclass(frozen=True)
class Register:
    """One configuration register: ``count`` > 1 means an indexed array ``NAME[i]``."""

    name: str
    fmt: str  # ap_fixed notation of the register
    lo: int
    hi: int
    default: int
    doc: str
    count: int = 1


def _counter_regs() -> list[Register]:
    regs = []
    for name in COUNTER_NAMES:
        thr = 60
        regs.append(Register(f"CNT_THRESHOLD_{name}", "ap_uint<12>", 1, 4095, thr,
                             f"{name} leading-edge threshold on the baseline-subtracted sample (ADC counts)"))
    for name in COUNTER_NAMES:
        stretch = 3 if name.startswith("S") else 6
        regs.append(Register(f"CNT_STRETCH_{name}", "ap_uint<8>", 1, 255, stretch,
                             f"{name} output pulse length after a leading edge (clocks)"))
    return regs


# Nominal calibration behind the default gains: amplitude MeV per ADC count 5 (ECAL0),
# 25 (ECAL1), 30 (HCAL); a 4-sample moving sum of the ECAL/HCAL pulse peaks at ~3.2 x the
# amplitude; one energy unit is 8 MeV. gain = MeV/ADC / 3.2 / 8, as ap_ufixed<16,4> (x 4096).
REGISTERS: tuple[Register, ...] = (
    Register("PED_SHIFT", "ap_uint<4>", 0, 8, 3,
             "pedestal tracking speed k: ped += (block_mean - ped) >> k"),
    Register("PED_BLOCK_LOG2", "ap_uint<3>", 0, 4, 3,
             "pedestal block length M = 2**PED_BLOCK_LOG2 samples"),
    Register("PED_GATE", "ap_uint<12>", 0, 4095, 20,
             "a block updates the pedestal only if its largest sample <= pedestal + PED_GATE"),
    Register("FILTER_LEN", "ap_uint<4>", 1, 8, 4,
             "energy filter: moving sum over this many baseline-subtracted samples"),
    Register("GAIN_ECAL0", "ap_ufixed<16,4>", 0, 65535, 800,
             "ECAL0 per-cell gain (raw ap_ufixed<16,4>, 4096 = 1.0)", N_ECAL0),
    Register("GAIN_ECAL1", "ap_ufixed<16,4>", 0, 65535, 4000,
             "ECAL1 per-cell gain (raw ap_ufixed<16,4>, 4096 = 1.0)", N_ECAL1),
    Register("GAIN_HCAL", "ap_ufixed<16,4>", 0, 65535, 4800,
             "HCAL per-cell gain (raw ap_ufixed<16,4>, 4096 = 1.0)", N_HCAL),
    Register("PEAK_MIN_ECAL0", "ap_uint<16>", 0, 65535, 6,
             "smallest ECAL0 channel peak accepted (energy units)"),
    Register("PEAK_MIN_ECAL1", "ap_uint<16>", 0, 65535, 25,
             "smallest ECAL1 channel peak accepted (energy units)"),
    Register("PEAK_MIN_HCAL", "ap_uint<16>", 0, 65535, 30,
             "smallest HCAL channel peak accepted (energy units)"),
    Register("PEAK_HOLD", "ap_uint<8>", 1, 255, 10,
             "clocks a channel peak is held on the adder-tree input"),
    *_counter_regs(),
    Register("COINC_MASK", "ap_uint<3>", 1, 7, 7,
             "beam counters in the coincidence: bit0 S1, bit1 S2, bit2 S3"),
    Register("VETO_MASK", "ap_uint<2>", 0, 3, 3,
             "veto counters in the anti-coincidence: bit0 V1, bit1 V2"),
    Register("DECISION_DELAY", "ap_uint<6>", 1, 63, 12,
             "clocks from the beam-coincidence edge to the decision"),
    Register("PRS_THRESHOLD", "ap_uint<16>", 0, 65535, 37,
             "physics needs pre-shower sum > PRS_THRESHOLD (energy units; 37 = 296 MeV)"),
    Register("ECAL_THRESHOLD", "ap_uint<16>", 0, 65535, 10000,
             "physics needs ECAL total < ECAL_THRESHOLD (energy units; 10000 = 80 GeV)"),
    Register("PILEUP_WINDOW", "ap_uint<8>", 0, 254, 16,
             "a beam edge this many clocks or less before the decided one flags pile-up"),
    Register("PILEUP_SUM_MIN", "ap_uint<16>", 0, 65535, 125,
             "smallest ECAL-sum peak counted for pile-up (energy units; 125 = 1 GeV)"),
    Register("BEAM_PRESCALE", "ap_uint<16>", 0, 65535, 1,
             "every N-th beam coincidence gets the beam bit; 0 = beam trigger off"),
    Register("RANDOM_THRESHOLD", "ap_uint<32>", 0, 0xFFFFFFFF, 0,
             "random trigger request when the LFSR < RANDOM_THRESHOLD; 0 = off"),
    Register("RANDOM_SEED", "ap_uint<32>", 1, 0xFFFFFFFF, 0xACE1,
             "LFSR value after reset (non-zero)"),
    Register("DEAD_TIME", "ap_uint<16>", 0, 65535, 80,
             "clocks after a trigger during which no decision starts"),
)
REGISTER_BY_NAME: dict[str, Register] = {r.name: r for r in REGISTERS}


def _default_values() -> dict[str, object]:
    out: dict[str, object] = {}
    for reg in REGISTERS:
        out[reg.name] = np.full(reg.count, reg.default, dtype=np.int64) if reg.count > 1 else reg.default
    return out


@dataclass(frozen=True)
class TriggerConfig:
    """A validated set of register values (ints; indexed registers as int64 arrays).

    ``TriggerConfig()`` holds the defaults; ``TriggerConfig.from_mapping({...})`` starts from
    the defaults and overrides the given registers, checking every value against its range.
    """

    values: Mapping[str, object] = field(default_factory=_default_values)

    def __post_init__(self) -> None:
        merged = _default_values()
        for name, value in self.values.items():
            reg = REGISTER_BY_NAME.get(name)
            if reg is None:
                raise ValueError(f"unknown trigger register {name!r}")
            merged[name] = _check(reg, value)
        for value in merged.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # immutable, so derived forms can be cached by identity
        object.__setattr__(self, "values", MappingProxyType(merged))

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> TriggerConfig:
        return cls(dict(values))

    def replace(self, **changes: object) -> TriggerConfig:
        return TriggerConfig({**self.values, **changes})

    def __getitem__(self, name: str) -> object:
        return self.values[name]

    def scalar(self, name: str) -> int:
        return int(self.values[name])  # type: ignore[arg-type]

    def array(self, name: str) -> np.ndarray:
        return np.asarray(self.values[name], dtype=np.int64)

    @property
    def gains(self) -> np.ndarray:
        """Per calorimeter channel gain (raw ap_ufixed<16,4>), calo channel order."""
        return np.concatenate([self.array("GAIN_ECAL0"), self.array("GAIN_ECAL1"), self.array("GAIN_HCAL")])

    @property
    def peak_mins(self) -> np.ndarray:
        """Per calorimeter channel peak threshold, calo channel order."""
        return np.concatenate([
            np.full(N_ECAL0, self.scalar("PEAK_MIN_ECAL0"), dtype=np.int64),
            np.full(N_ECAL1, self.scalar("PEAK_MIN_ECAL1"), dtype=np.int64),
            np.full(N_HCAL, self.scalar("PEAK_MIN_HCAL"), dtype=np.int64),
        ])

    @property
    def counter_thresholds(self) -> np.ndarray:
        return np.array([self.scalar(f"CNT_THRESHOLD_{n}") for n in COUNTER_NAMES], dtype=np.int64)

    @property
    def counter_stretches(self) -> np.ndarray:
        return np.array([self.scalar(f"CNT_STRETCH_{n}") for n in COUNTER_NAMES], dtype=np.int64)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TriggerConfig):
            return NotImplemented
        return all(np.array_equal(np.asarray(self.values[k]), np.asarray(other.values[k])) for k in self.values)

    def __hash__(self) -> int:  # pragma: no cover - configs are not used as keys
        return hash(tuple(np.asarray(v).tobytes() for v in self.values.values()))


def _check(reg: Register, value: object) -> object:
    arr = np.asarray(value)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        raise ValueError(f"register {reg.name} ({reg.fmt}) needs integer values, got {value!r}")
    if reg.count > 1:
        if arr.ndim == 0:
            arr = np.full(reg.count, int(arr), dtype=np.int64)
        if arr.shape != (reg.count,):
            raise ValueError(f"register {reg.name} has {reg.count} entries, got shape {arr.shape}")
    elif arr.ndim != 0:
        raise ValueError(f"register {reg.name} is a single value, got shape {arr.shape}")
    flat = arr.reshape(-1)
    bad = (flat < reg.lo) | (flat > reg.hi)
    if np.any(bad):
        i = int(np.argmax(bad))
        where = f"{reg.name}[{i}]" if reg.count > 1 else reg.name
        raise ValueError(
            f"register {where} ({reg.fmt}) = {int(flat[i])} is out of range, legal {reg.lo}..{reg.hi}"
        )
    return arr.astype(np.int64) if reg.count > 1 else int(arr)
