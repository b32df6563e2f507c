"""Trigger emulation through the C firmware library: recorded windows and long streams."""

from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from fpga_model import decision as _decision
from fpga_model.registers import (
    COUNTER_NAMES, N_BEAM, N_CALO, N_CHANNELS, N_COUNTERS, N_ECAL0, N_ECAL1, N_HCAL, N_VETO,
    TriggerConfig,
)

from ..columns import Columns
from ._lib import library
from .config import load_trigger_config

__all__ = ["emulate", "emulate_windows", "trigger_bits_windows", "trigger_bits_digits", "trigger_bits_digit_rows",
           "FirmwareStream", "to_c_config",
           "TRIGGER_BIT_NAMES", "check_window_samples"]

TRIGGER_BIT_NAMES = {1: "physics", 2: "beam", 4: "random"}
# na64fw_window_results fields: (name, numpy dtype, cffi pointer type), widest first
_WINDOW_FIELDS = (
    ("decision_word", np.uint64, "uint64_t *"), ("n_triggers", np.int32, "int32_t *"),
    ("decision_clock", np.int32, "int32_t *"), ("e_prs", np.uint16, "uint16_t *"),
    ("e_ecal", np.uint16, "uint16_t *"), ("e_hcal", np.uint16, "uint16_t *"),
    ("trigger_bits", np.uint8, "uint8_t *"),
)
_WINDOW_BYTES = sum(np.dtype(dtype).itemsize for _, dtype, _ in _WINDOW_FIELDS)
# boolean columns, in bit order of (trigger_bits | word bits 3-4)
_FLAG_NAMES = ("physics", "beam", "random", "pileup", "veto")
_WORD_FLAG_BITS = _decision.BIT_PILEUP | _decision.BIT_VETO
_COLUMN_ORDER = ("trigger_bits", "n_triggers", "decision_word", "decision_clock", "e_prs", "e_ecal", "e_hcal",
                 *_FLAG_NAMES)
_ROLES = (("beam", N_BEAM), ("veto", N_VETO), ("ecal0", N_ECAL0), ("ecal1", N_ECAL1), ("hcal", N_HCAL))


# recently used configurations and their C structs; TriggerConfig is immutable (read-only
# arrays in a read-only mapping), so identity is a sound key; the entry keeps the config
# alive so that its id cannot be reused while cached
_C_CONFIGS: OrderedDict[int, tuple[TriggerConfig, object]] = OrderedDict()
_C_CONFIGS_KEPT = 8


def _cached_c_config(config: TriggerConfig):
    entry = _C_CONFIGS.get(id(config))
    if entry is not None and entry[0] is config:
        _C_CONFIGS.move_to_end(id(config))
        return entry[1]
    c = to_c_config(config)
    _C_CONFIGS[id(config)] = (config, c)
    while len(_C_CONFIGS) > _C_CONFIGS_KEPT:
        _C_CONFIGS.popitem(last=False)
    return c


def to_c_config(config: TriggerConfig):
    """Fill an ``na64fw_config`` struct (cffi) from validated register values."""
    ffi, lib = library()
    c = ffi.new("na64fw_config *")
    s = config.scalar
    c.ped_shift, c.ped_block_log2, c.ped_gate = s("PED_SHIFT"), s("PED_BLOCK_LOG2"), s("PED_GATE")
    c.filter_len, c.peak_hold = s("FILTER_LEN"), s("PEAK_HOLD")
    c.coinc_mask, c.veto_mask = s("COINC_MASK"), s("VETO_MASK")
    c.decision_delay, c.pileup_window = s("DECISION_DELAY"), s("PILEUP_WINDOW")
    for i, g in enumerate(config.gains.tolist()):
        c.gain[i] = g
    for i, name in enumerate(("PEAK_MIN_ECAL0", "PEAK_MIN_ECAL1", "PEAK_MIN_HCAL")):
        c.peak_min[i] = s(name)
    for i, name in enumerate(COUNTER_NAMES):
        c.cnt_threshold[i] = s(f"CNT_THRESHOLD_{name}")
        c.cnt_stretch[i] = s(f"CNT_STRETCH_{name}")
    c.prs_threshold, c.ecal_threshold = s("PRS_THRESHOLD"), s("ECAL_THRESHOLD")
    c.pileup_sum_min, c.beam_prescale, c.dead_time = s("PILEUP_SUM_MIN"), s("BEAM_PRESCALE"), s("DEAD_TIME")
    c.random_threshold, c.random_seed = s("RANDOM_THRESHOLD"), s("RANDOM_SEED")
    bad = int(lib.na64fw_config_check(c))
    if bad != 0:  # the register table and the C checks disagree: a bug, not bad input
        raise RuntimeError(f"na64fw_config_check rejected validated registers (field {bad})")
    return c


@functools.cache
def _default_config() -> TriggerConfig:
    return load_trigger_config()


def _config(config: TriggerConfig | str | None) -> TriggerConfig:
    if isinstance(config, TriggerConfig):
        return config
    if config is None:  # the shipped defaults: read once
        return _default_config()
    return load_trigger_config(config)


def _out_of_range(a: np.ndarray) -> bool:
    """Whether any sample lies outside 0..4095 (one reduction for unsigned dtypes)."""
    if a.dtype.kind == "u":
        return int(a.max()) > 4095
    return int(a.min()) < 0 or int(a.max()) > 4095


def check_window_samples(name: str, arr: object, n_channels: int, n_events: int | None = None,
                         n_samples: int | None = None) -> np.ndarray:
    """Validate one role's windows: integer dtype, (n_events, n_channels, n_samples), 0..4095."""
    a = np.asarray(arr)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: samples must be an integer array (uint16), got dtype {a.dtype}")
    if a.ndim != 3 or a.shape[1] != n_channels:
        raise ValueError(f"{name}: expected shape (n_events, {n_channels}, n_samples), got {a.shape}")
    if n_events is not None and a.shape[0] != n_events:
        raise ValueError(f"{name}: {a.shape[0]} events, expected {n_events} like the other roles")
    if n_samples is not None and a.shape[2] != n_samples:
        raise ValueError(f"{name}: {a.shape[2]} samples per window, expected {n_samples} like the other roles")
    if a.size and _out_of_range(a):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 4095:
            bad = lo if lo < 0 else hi
            idx = np.argwhere(a == bad)[0]
            raise ValueError(f"{name}: sample {bad} at (event {idx[0]}, channel {idx[1]}, sample {idx[2]}) "
                             f"is outside the 12-bit range 0..4095")
    return a


def emulate(beam: np.ndarray, veto: np.ndarray, ecal0: np.ndarray, ecal1: np.ndarray, hcal: np.ndarray,
            config: TriggerConfig | str | None = None) -> Columns:
    """Emulate the trigger on recorded windows arranged by trigger role.

    ``beam`` (n, 3, W): S1 S2 S3; ``veto`` (n, 2, W): V1 V2; ``ecal0``/``ecal1`` (n, 36, W)
    cells ``6*x + y``; ``hcal`` (n, 36, W) cells ``9*module + 3*x + y``; integer samples in
    0..4095 (uint16). Each window is run from reset through the C firmware path.
    ``config``: a TriggerConfig, a configuration file path, or None for the defaults.

    Returns Columns, one row per event: ``trigger_bits`` (uint8, bit0 physics, bit1 beam,
    bit2 random: OR over the window's triggers), ``n_triggers``, ``decision_word`` (the first
    decision's uint64 word, 0 if none), ``decision_clock`` (-1 if none), ``e_prs``, ``e_ecal``,
    ``e_hcal`` (uint16 sums at that decision, 8 MeV units), and booleans ``physics``,
    ``beam``, ``random``, ``pileup``, ``veto``.
    """
    arrays = []
    n = W = None
    for (name, width), arr in zip(_ROLES, (beam, veto, ecal0, ecal1, hcal)):
        a = check_window_samples(name, arr, width, n, W)
        n, W = a.shape[0], a.shape[2]
        arrays.append(a)
    samples = np.concatenate([a.astype(np.uint16, copy=False) for a in arrays], axis=1)
    return emulate_windows(samples, config)


def _window_input(samples: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Windows (n, 113, W) checked and made contiguous uint16 for the C entries, with n and W."""
    x = np.ascontiguousarray(check_window_samples("samples", samples, N_CHANNELS), dtype=np.uint16)
    n, W = x.shape[0], x.shape[2]
    if W == 0 and n:
        raise ValueError("samples: windows must hold at least one sample")
    return x, n, W


def emulate_windows(samples: np.ndarray, config: TriggerConfig | str | None = None) -> Columns:
    """Like :func:`emulate` on one array (n, 113, W) in the trigger's channel order."""
    x, n, W = _window_input(samples)
    cfg = _config(config)
    ffi, lib = library()
    # one allocation for all result columns, widest first so every column stays aligned;
    # the C side writes every entry of every column
    buf = np.empty(n * _WINDOW_BYTES, dtype=np.uint8)
    base = ffi.from_buffer("uint8_t[]", buf)
    res = ffi.new("na64fw_window_results *")
    out = {}
    offset = 0
    for field, dtype, cname in _WINDOW_FIELDS:
        size = n * np.dtype(dtype).itemsize
        out[field] = buf[offset:offset + size].view(dtype)
        setattr(res, field, ffi.cast(cname, base + offset))
        offset += size
    rc = int(lib.na64fw_run_windows(_cached_c_config(cfg), ffi.from_buffer("uint16_t[]", x), n, W, res))
    if rc != 0:
        raise RuntimeError(f"na64fw_run_windows failed with status {rc}")
    # the five flags as one byte per window (trigger bits 0-2, word bits 3-4), unpacked at once
    flags = out["trigger_bits"] | (out["decision_word"].astype(np.uint8) & np.uint8(_WORD_FLAG_BITS))
    unpacked = np.unpackbits(flags[:, None], axis=1, count=5, bitorder="little").view(bool)
    for name, column in zip(_FLAG_NAMES, np.ascontiguousarray(unpacked.T)):
        out[name] = column
    return Columns({name: out[name] for name in _COLUMN_ORDER})


def trigger_bits_windows(samples: np.ndarray, config: TriggerConfig | str | None = None) -> np.ndarray:
    """Only the ``trigger_bits`` column of :func:`emulate_windows` (uint8 per window), computed
    by the cheaper C entry that skips what the bits do not depend on (HCAL, pile-up sum)."""
    x, n, W = _window_input(samples)
    cfg = _config(config)
    ffi, lib = library()
    bits = np.zeros(n, np.uint8)
    rc = int(lib.na64fw_trigger_bits_windows(
        _cached_c_config(cfg), ffi.from_buffer("uint16_t[]", x), n, W, ffi.from_buffer("uint8_t[]", bits)
    ))
    if rc != 0:
        raise RuntimeError(f"na64fw_trigger_bits_windows failed with status {rc}")
    return bits


def _event_offsets(first_digit: np.ndarray) -> np.ndarray:
    first = np.ascontiguousarray(first_digit, dtype=np.uint32)
    if first.ndim != 1 or first.size < 1:
        raise ValueError(f"first_digit: expected n_events + 1 offsets, got shape {first.shape}")
    return first


def _digit_channels(first: np.ndarray, ch: np.ndarray, n_digits: int, unit: str) -> np.ndarray:
    """The channels as the C entries take them, after checking that the event offsets do not
    decrease and stay within the n_digits digits (``unit``: what the messages call one) and
    that every channel is a trigger channel."""
    if int(first[-1]) > n_digits or np.any(first[1:] < first[:-1]):
        raise ValueError(f"first_digit: offsets must not decrease and end at most at the {n_digits} {unit}s")
    if ch.size and (int(ch.min()) < 0 or int(ch.max()) >= N_CHANNELS):
        bad = int(ch.min()) if int(ch.min()) < 0 else int(ch.max())
        raise ValueError(f"channel: {bad} at {unit} {int(np.flatnonzero(ch == bad)[0])} is outside 0..{N_CHANNELS - 1}")
    return np.ascontiguousarray(ch, dtype=np.uint16)


def trigger_bits_digits(first_digit: np.ndarray, channel: np.ndarray, rows: np.ndarray,
                        config: TriggerConfig | str | None = None) -> np.ndarray:
    """The ``trigger_bits`` of :func:`trigger_bits_windows` for events given as their digits.

    Event ``e`` holds the digit rows ``first_digit[e]:first_digit[e + 1]`` (``n_events + 1``
    non-decreasing offsets); row ``r`` is trigger channel ``channel[r]`` (0..112) with samples
    ``rows[r]`` (uint16, 0..4095, as :func:`~na64reco.firmware.compare.digit_window_rows` makes
    them). The same bits as on the dense windows these digits fill (absent channels flat at 0,
    the later of two digits of a channel winning), without building those windows.
    """
    first = _event_offsets(first_digit)
    ch = np.asarray(channel)
    x = np.asarray(rows)
    if x.dtype != np.uint16 or x.ndim != 2 or ch.shape != (x.shape[0],):
        raise ValueError(f"rows: expected uint16 (n_digits, n_samples) with one channel per row, got {x.dtype} "
                         f"{x.shape} and {ch.shape[0] if ch.ndim else 0} channels")
    n = first.size - 1
    bits = np.zeros(n, np.uint8)
    if n == 0:
        return bits
    ch16 = _digit_channels(first, ch, x.shape[0], "row")
    ffi, lib = library()
    if not 1 <= x.shape[1] <= int(lib.NA64FW_MAX_DIGIT_SAMPLES):
        raise ValueError(f"rows: {x.shape[1]} samples per digit, expected 1..{int(lib.NA64FW_MAX_DIGIT_SAMPLES)}")
    x = np.ascontiguousarray(x)
    rc = int(lib.na64fw_trigger_bits_digits(
        _cached_c_config(_config(config)), ffi.from_buffer("uint32_t[]", first), n,
        ffi.from_buffer("uint16_t[]", ch16), ffi.from_buffer("uint16_t[]", x), x.shape[1],
        ffi.from_buffer("uint8_t[]", bits),
    ))
    if rc == int(lib.NA64FW_ERR_SAMPLE):
        r, t = np.argwhere(x > 4095)[0]
        raise ValueError(f"rows: sample {int(x[r, t])} at (row {r}, sample {t}) is outside the 12-bit range 0..4095")
    if rc != 0:
        raise RuntimeError(f"na64fw_trigger_bits_digits failed with status {rc}")
    return bits


def trigger_bits_digit_rows(first_digit: np.ndarray, channel: np.ndarray, table: np.ndarray, row_index: np.ndarray,
                            n_samples: int, config: TriggerConfig | str | None = None) -> np.ndarray:
    """:func:`trigger_bits_digits` with digit ``r``'s samples the first ``n_samples`` of
    ``table[row_index[r]]`` (a uint16 table of digit rows, e.g. a batch's MSADC samples): the
    rows are read where they are instead of copied out first. Every picked row must hold
    ``n_samples`` recorded 12-bit samples (shorter or wider digits: make them rows with
    :func:`~na64reco.firmware.compare.digit_window_rows` and call :func:`trigger_bits_digits`)."""
    first = _event_offsets(first_digit)
    ch = np.asarray(channel)
    t = np.asarray(table)
    idx = np.ascontiguousarray(row_index, dtype=np.uint64)
    if t.dtype != np.uint16 or t.ndim != 2 or not t.flags.c_contiguous:
        raise ValueError(f"table: expected a C-contiguous uint16 (n_rows, width) array, got {t.dtype} {t.shape}")
    if idx.ndim != 1 or ch.shape != idx.shape:
        raise ValueError(f"row_index: expected one table row per channel ({ch.shape}), got shape {idx.shape}")
    ffi, lib = library()
    if not 1 <= n_samples <= min(t.shape[1], int(lib.NA64FW_MAX_DIGIT_SAMPLES)):
        raise ValueError(f"n_samples: {n_samples}, expected 1..{min(t.shape[1], int(lib.NA64FW_MAX_DIGIT_SAMPLES))}")
    n = first.size - 1
    bits = np.zeros(n, np.uint8)
    if n == 0:
        return bits
    ch16 = _digit_channels(first, ch, idx.size, "digit")
    rc = int(lib.na64fw_trigger_bits_digit_rows(
        _cached_c_config(_config(config)), ffi.from_buffer("uint32_t[]", first), n,
        ffi.from_buffer("uint16_t[]", ch16), ffi.from_buffer("uint16_t[]", t), t.shape[0], t.shape[1],
        ffi.from_buffer("uint64_t[]", idx), n_samples, ffi.from_buffer("uint8_t[]", bits),
    ))
    if rc == int(lib.NA64FW_ERR_SIZE):
        raise ValueError(f"row_index: a row beyond the table's {t.shape[0]} rows")
    if rc == int(lib.NA64FW_ERR_SAMPLE):
        picked = t[idx[int(first[0]):int(first[-1])], :n_samples]
        r, k = np.argwhere(picked > 4095)[0]
        raise ValueError(f"table: sample {int(picked[r, k])} at (digit {int(first[0]) + r}, sample {k}) is outside "
                         "the 12-bit range 0..4095")
    if rc != 0:
        raise RuntimeError(f"na64fw_trigger_bits_digit_rows failed with status {rc}")
    return bits


class FirmwareStream:
    """The C pipeline on a continuous stream, state kept between ``run`` calls."""

    def __init__(self, config: TriggerConfig | str | None = None) -> None:
        self._ffi, self._lib = library()
        self._state = self._ffi.new("na64fw_state *")
        self.configure(_config(config))
        self.reset()

    def configure(self, config: TriggerConfig) -> None:
        self.config = config
        self._c_config = to_c_config(config)

    def reset(self) -> None:
        self._lib.na64fw_reset(self._state, self._c_config)

    def run(self, samples: np.ndarray, debug: bool = False) -> dict[str, np.ndarray]:
        """Run ``samples`` (113, T) integer 0..4095; per-clock outputs named as in fpga_model.trigger."""
        a = np.asarray(samples)
        if a.dtype.kind not in "iu":
            raise TypeError(f"samples must be an integer array (uint16), got dtype {a.dtype}")
        if a.ndim != 2 or a.shape[0] != N_CHANNELS:
            raise ValueError(f"samples must be shaped ({N_CHANNELS}, n_clocks), got {a.shape}")
        if a.size and (int(a.min()) < 0 or int(a.max()) > 4095):
            raise ValueError(f"sample values must be within 0..4095, got {int(a.min())}..{int(a.max())}")
        x = np.ascontiguousarray(a, dtype=np.uint16)
        T = x.shape[1]
        ffi = self._ffi
        res = {"word": np.zeros(T, np.uint64), "prs": np.zeros(T, np.uint16), "ecal": np.zeros(T, np.uint16),
               "hcal": np.zeros(T, np.uint16), "ecal_inst": np.zeros(T, np.uint16), "flags": np.zeros(T, np.uint8)}
        if debug:
            res.update(baseline=np.zeros((N_CHANNELS, T), np.int16), filter=np.zeros((N_CALO, T), np.int16),
                       energy=np.zeros((N_CALO, T), np.uint16), held=np.zeros((N_CALO, T), np.uint16),
                       counters=np.zeros((N_COUNTERS, T), np.uint8))
        out = ffi.new("na64fw_outputs *")
        keep = []
        for field, arr in res.items():
            ptr = ffi.from_buffer(ffi.typeof(getattr(out, field)).cname, arr)
            keep.append(ptr)
            setattr(out, field, ptr)
        if T:
            rc = int(self._lib.na64fw_run(self._state, self._c_config, ffi.from_buffer("uint16_t[]", x), T, T, out))
            if rc != 0:
                raise RuntimeError(f"na64fw_run failed with status {rc}")
        flags = res.pop("flags")
        res["sum_peak"] = (flags & 1) != 0
        res["beam"] = (flags & 2) != 0
        res["beam_edge"] = (flags & 4) != 0
        res["veto"] = (flags & 8) != 0
        if debug:
            res["counters"] = res["counters"].astype(bool)
        return res
