"""fpga_model.fixed.requantize against independent oracles: exact rationals and apytypes."""

from __future__ import annotations

import math
from fractions import Fraction

import apytypes
import numpy as np
import pytest
from hypothesis import given, strategies as st

from fpga_model.fixed import OVERFLOW_MODES, QUANTIZATION_MODES, FixedFormat, requantize

APY_Q = {
    "TRN": apytypes.QuantizationMode.TO_NEG,
    "TRN_ZERO": apytypes.QuantizationMode.TO_ZERO,
    "RND": apytypes.QuantizationMode.TIES_POS,
    "RND_ZERO": apytypes.QuantizationMode.TIES_ZERO,
    "RND_MIN_INF": apytypes.QuantizationMode.TIES_NEG,
    "RND_INF": apytypes.QuantizationMode.TIES_AWAY,
    "RND_CONV": apytypes.QuantizationMode.TIES_EVEN,
}
APY_O = {"WRAP": apytypes.OverflowMode.WRAP, "SAT": apytypes.OverflowMode.SAT}


def rational_oracle(raw: int, src: FixedFormat, dst: FixedFormat, rounding: str, overflow: str) -> int:
    """The definitions of docs/firmware.md, on exact rationals."""
    x = Fraction(raw) * Fraction(2) ** (dst.frac_bits - src.frac_bits)  # value in dst LSBs
    fl = math.floor(x)
    rem = x - fl
    if rounding == "TRN":
        q = fl
    elif rounding == "TRN_ZERO":
        q = math.trunc(x)
    elif rem != Fraction(1, 2):
        q = fl + (rem > Fraction(1, 2))
    else:  # exact tie
        q = {"RND": fl + 1, "RND_MIN_INF": fl, "RND_ZERO": fl + (x < 0), "RND_INF": fl + (x > 0),
             "RND_CONV": fl + (fl % 2)}[rounding]
    lo, hi = dst.raw_min, dst.raw_max
    if lo <= q <= hi:
        if overflow == "SAT_SYM" and dst.signed and q < -hi:
            return -hi
        return q
    if overflow == "WRAP":
        return (q - lo) % (1 << dst.width) + lo
    if overflow == "SAT":
        return lo if q < lo else hi
    if overflow == "SAT_ZERO":
        return 0
    return (-hi if dst.signed else 0) if q < 0 else hi  # SAT_SYM


formats = st.builds(FixedFormat, width=st.integers(1, 24), int_bits=st.integers(-6, 30), signed=st.booleans())


@st.composite
def raw_codes(draw, fmt: FixedFormat):
    edges = [fmt.raw_min, fmt.raw_max, 0, min(1, fmt.raw_max), max(-1, fmt.raw_min)]
    return draw(st.lists(st.one_of(st.sampled_from(edges), st.integers(fmt.raw_min, fmt.raw_max)),
                         min_size=1, max_size=40))


@given(st.data(), formats, formats, st.sampled_from(QUANTIZATION_MODES), st.sampled_from(OVERFLOW_MODES))
def test_requantize_matches_rationals(data, src, dst, rounding, overflow):
    raw = data.draw(raw_codes(src))
    got = requantize(np.array(raw, dtype=np.int64), src, dst, rounding, overflow)
    want = [rational_oracle(r, src, dst, rounding, overflow) for r in raw]
    assert got.tolist() == want, f"{src} -> {dst} {rounding}/{overflow} raw={raw}"


def apytypes_cast(raw: np.ndarray, src: FixedFormat, dst: FixedFormat, rounding: str, overflow: str) -> np.ndarray:
    """apytypes works on signed formats: an unsigned one is the signed format one bit wider."""
    s_w, s_i = (src.width, src.int_bits) if src.signed else (src.width + 1, src.int_bits + 1)
    d_w, d_i = (dst.width, dst.int_bits) if dst.signed else (dst.width + 1, dst.int_bits + 1)
    bits = (raw.astype(np.int64) & ((1 << s_w) - 1)).astype(np.uint64)
    arr = apytypes.APyFixedArray(bits.tolist(), int_bits=s_i, frac_bits=s_w - s_i)
    out = arr.cast(int_bits=d_i, frac_bits=d_w - d_i, quantization=APY_Q[rounding], overflow=APY_O[overflow])
    pattern = np.asarray(out.to_bits(), dtype=np.int64)
    signed = np.where(pattern >= (1 << (d_w - 1)), pattern - (1 << d_w), pattern)
    if dst.signed:
        return signed
    if overflow == "SAT":
        return np.maximum(signed, 0)
    return signed & ((1 << dst.width) - 1)


EXHAUSTIVE_SRC = [FixedFormat(12, 4, True), FixedFormat(12, 7, False)]
EXHAUSTIVE_DST = [FixedFormat(6, 3, True), FixedFormat(8, 2, False), FixedFormat(10, 8, True), FixedFormat(16, 4, True)]


@pytest.mark.parametrize("rounding", QUANTIZATION_MODES)
@pytest.mark.parametrize("overflow", ["WRAP", "SAT"])
def test_requantize_exhaustive_12_bit_against_apytypes(rounding, overflow):
    for src in EXHAUSTIVE_SRC:
        raw = np.arange(src.raw_min, src.raw_max + 1, dtype=np.int64)
        for dst in EXHAUSTIVE_DST:
            got = requantize(raw, src, dst, rounding, overflow)
            want = apytypes_cast(raw, src, dst, rounding, overflow)
            bad = np.flatnonzero(got != want)
            assert bad.size == 0, (f"{src}->{dst} {rounding}/{overflow}: raw {raw[bad[0]]} gives {got[bad[0]]}, "
                                   f"apytypes {want[bad[0]]}")


@pytest.mark.parametrize("overflow", ["SAT_ZERO", "SAT_SYM"])
def test_requantize_exhaustive_12_bit_sat_modes_against_rationals(overflow):
    src = FixedFormat(12, 4, True)
    raw = np.arange(src.raw_min, src.raw_max + 1, dtype=np.int64)
    for dst in (FixedFormat(6, 3, True), FixedFormat(8, 2, False)):
        for rounding in ("TRN", "RND_CONV"):
            got = requantize(raw, src, dst, rounding, overflow).tolist()
            assert got == [rational_oracle(int(r), src, dst, rounding, overflow) for r in raw]


def test_guards():
    with pytest.raises(ValueError, match="not representable"):
        requantize(np.array([128]), FixedFormat(8, 8, True), FixedFormat(8, 8, True))
    with pytest.raises(OverflowError, match="int64"):
        requantize(np.array([1]), FixedFormat(40, 40, True), FixedFormat(40, 0, True))
    with pytest.raises(TypeError, match="integers"):
        requantize(np.array([1.5]), FixedFormat(8, 8, True), FixedFormat(8, 8, True))
    with pytest.raises(ValueError, match="rounding"):
        requantize(np.array([1]), FixedFormat(8, 8, True), FixedFormat(8, 8, True), rounding="ROUND")
    with pytest.raises(ValueError, match="width"):
        FixedFormat(0, 0, True)


def test_quantisation_by_more_than_63_bits():
    src = FixedFormat(8, -54, True)  # LSB 2**-62
    dst = FixedFormat(8, 70, True)  # LSB 2**62: the value moves 124 bits
    raw = np.array([-128, -1, 0, 1, 127])
    for rounding in QUANTIZATION_MODES:
        assert requantize(raw, src, dst, rounding, "WRAP").tolist() == \
            [rational_oracle(int(r), src, dst, rounding, "WRAP") for r in raw]
