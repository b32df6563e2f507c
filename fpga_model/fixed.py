"""ap_fixed arithmetic on raw two's-complement integers (numpy int64, no floats).

A value in format ``FixedFormat(width, int_bits, signed)`` is stored as its raw integer
``raw``; the real value is ``raw * 2**-(width - int_bits)``. This is the Xilinx/AMD
``ap_fixed<W, I, Q, O>`` / ``ap_ufixed<W, I, Q, O>`` model (UG1399): intermediate results
of additions and products grow (they are exact in a wider format), and only an assignment
to a narrower register quantises (``rounding``) and then handles overflow (``overflow``).

Quantisation modes (what happens to dropped fractional bits):

==============  =========================================================
``TRN``         floor (towards -inf), the ap_fixed default
``TRN_ZERO``    towards zero
``RND``         to nearest, ties towards +inf
``RND_ZERO``    to nearest, ties towards zero
``RND_MIN_INF`` to nearest, ties towards -inf
``RND_INF``     to nearest, ties away from zero
``RND_CONV``    to nearest, ties to even (convergent)
==============  =========================================================

Overflow modes (applied after quantisation, when the result does not fit):

==============  =========================================================
``WRAP``        keep the low ``width`` bits (two's complement), the default
``SAT``         clamp to the nearest representable value
``SAT_ZERO``    any out-of-range result becomes 0
``SAT_SYM``     clamp to the symmetric range [-MAX, MAX]; for signed formats the
                most negative code -2**(W-1) is never produced (it becomes -MAX)
==============  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FixedFormat",
    "QUANTIZATION_MODES",
    "OVERFLOW_MODES",
    "requantize",
    "saturate",
    "fits",
]

QUANTIZATION_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")

# Every intermediate lives in int64; keep one bit of headroom for the rounding increment.
_INTERMEDIATE_BITS = 62


@dataclass(frozen=True)
class FixedFormat:
    """``ap_fixed<width, int_bits>`` (signed) or ``ap_ufixed<width, int_bits>`` (unsigned)."""

    width: int
    int_bits: int
    signed: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.width, (int, np.integer)) or not 1 <= self.width <= _INTERMEDIATE_BITS:
            raise ValueError(f"FixedFormat width must be an integer in 1..{_INTERMEDIATE_BITS}, got {self.width!r}")
        if not isinstance(self.int_bits, (int, np.integer)):
            raise ValueError(f"FixedFormat int_bits must be an integer, got {self.int_bits!r}")
        if abs(self.width - self.int_bits) > _INTERMEDIATE_BITS:
            raise ValueError(f"FixedFormat fractional bits {self.width - self.int_bits} out of range")

    @property
    def frac_bits(self) -> int:
        return self.width - self.int_bits

    @property
    def raw_min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def __str__(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width},{self.int_bits}>"


def _as_int64(raw: object, what: str) -> np.ndarray:
    arr = np.asarray(raw)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{what} must hold integers (raw fixed-point codes), got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise OverflowError(f"{what} holds values above the int64 range")
    return arr.astype(np.int64, copy=False)


def fits(raw: object, fmt: FixedFormat) -> np.ndarray:
    """Boolean mask: which raw codes are representable in ``fmt``."""
    r = _as_int64(raw, "raw")
    return (r >= fmt.raw_min) & (r <= fmt.raw_max)


def _quantize(r: np.ndarray, shift: int, rounding: str) -> np.ndarray:
    """Divide by 2**shift (shift > 0) with the given rounding; exact int64 arithmetic."""
    half = np.int64(1) << np.int64(shift - 1)
    # arithmetic shift = floor division for int64; |r| < 2**62 leaves room for the increment
    if rounding == "TRN":
        return r >> shift
    if rounding == "RND":  # floor(x + 1/2)
        return (r + half) >> shift
    if rounding == "RND_MIN_INF":  # ceil(x - 1/2)
        return (r + (half - 1)) >> shift
    floor = r >> shift
    rem = r - (floor << shift)  # 0 <= rem < 2**shift
    if rounding == "TRN_ZERO":
        return floor + ((r < 0) & (rem != 0))
    above = rem > half
    tie = rem == half
    if rounding == "RND_ZERO":
        up = above | (tie & (r < 0))
    elif rounding == "RND_INF":
        up = above | (tie & (r >= 0))
    elif rounding == "RND_CONV":
        up = above | (tie & ((floor & 1) == 1))
    else:  # pragma: no cover - guarded by requantize
        raise AssertionError(rounding)
    return floor + up


def saturate(q: np.ndarray, dst: FixedFormat, overflow: str) -> np.ndarray:
    """Apply an overflow mode to raw codes ``q`` already at ``dst``'s scale."""
    q = _as_int64(q, "q")
    lo, hi = dst.raw_min, dst.raw_max
    if overflow == "WRAP":
        mask = np.int64((1 << dst.width) - 1)
        low = q & mask
        if dst.signed:
            sign = np.int64(1 << (dst.width - 1))
            return (low ^ sign) - sign
        return low
    if overflow == "SAT":
        return np.clip(q, lo, hi)
    if overflow == "SAT_ZERO":
        return np.where((q < lo) | (q > hi), np.int64(0), q)
    if overflow == "SAT_SYM":
        sym_lo = -hi if dst.signed else 0
        return np.clip(q, sym_lo, hi)
    raise ValueError(f"overflow mode must be one of {', '.join(OVERFLOW_MODES)}, got {overflow!r}")


def requantize(
    raw: object,
    src: FixedFormat,
    dst: FixedFormat,
    rounding: str = "TRN",
    overflow: str = "WRAP",
    check: bool = True,
) -> np.ndarray:
    """Assign raw codes of format ``src`` to a register of format ``dst``.

    Quantisation first (``rounding``, when ``dst`` has fewer fractional bits), then
    overflow handling (``overflow``). Returns int64 raw codes of ``dst``. Raises
    ``ValueError`` when an input code is not representable in ``src`` and
    ``OverflowError`` when an intermediate would not fit in int64. ``check=False`` skips
    the representability scan of ``raw`` (for callers whose codes fit by construction).
    """
    if rounding not in QUANTIZATION_MODES:
        raise ValueError(f"rounding must be one of {', '.join(QUANTIZATION_MODES)}, got {rounding!r}")
    if overflow not in OVERFLOW_MODES:
        raise ValueError(f"overflow must be one of {', '.join(OVERFLOW_MODES)}, got {overflow!r}")
    r = _as_int64(raw, "raw")
    bad = ~fits(r, src) if check else None
    if bad is not None and np.any(bad):
        first = int(r[bad].flat[0]) if r.ndim else int(r)
        raise ValueError(
            f"raw code {first} is not representable in {src} (legal {src.raw_min}..{src.raw_max})"
        )
    shift = src.frac_bits - dst.frac_bits
    if shift <= 0:
        if src.width - shift > _INTERMEDIATE_BITS:
            raise OverflowError(
                f"{src} -> {dst}: the aligned intermediate needs {src.width - shift} bits, "
                f"more than the {_INTERMEDIATE_BITS} available in int64"
            )
        q = r << np.int64(-shift)
    else:
        q = _quantize(r, shift, rounding) if shift < 64 else _quantize_huge(r, rounding)
    return saturate(q, dst, overflow)


def _quantize_huge(r: np.ndarray, rounding: str) -> np.ndarray:
    """Quantisation by 64 or more bits: every |value| < 1/2 of the new LSB."""
    neg = r < 0
    if rounding in ("TRN", "RND_MIN_INF", "RND", "RND_ZERO", "RND_INF", "RND_CONV"):
        # floor of a tiny negative value is -1; every rounding mode except floor gives 0
        # (|value| < half an LSB, so no tie is possible)
        return np.where(neg & (rounding == "TRN"), np.int64(-1), np.int64(0))
    return np.zeros_like(r)
