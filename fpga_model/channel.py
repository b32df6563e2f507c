"""Per-channel stages: pedestal tracking + baseline subtraction, energy filter, gain, peak.

Every stage exists twice: a ``*Stream`` class stepped once per clock with plain Python
integers (the readable oracle, written straight from docs/firmware.md) and a ``*_block``
function over a chunk of clocks, vectorised with numpy int64, carrying the same state in a
dict so a long stream can be cut anywhere. Each stage ends in a one-clock output register,
so a stage's output at clock t is what it computed from its input at clock t-1.
"""

from __future__ import annotations

import numpy as np

from ._util import register
from .fixed import FixedFormat

__all__ = [
    "PED_FRAC_BITS",
    "PED_RAW_MAX",
    "PED_FORMAT",
    "PRODUCT_FORMAT",
    "ENERGY_FORMAT",
    "FILTER_DEPTH",
    "PedestalStream",
    "pedestal_block",
    "pedestal_reset",
    "FilterStream",
    "filter_block",
    "filter_reset",
    "GainStream",
    "gain_block",
    "gain_reset",
    "gain_comb",
    "PeakStream",
    "peak_block",
    "peak_reset",
]

PED_FRAC_BITS = 6
PED_FORMAT = FixedFormat(18, 12, signed=False)  # pedestal register ap_ufixed<18,12>
PED_RAW_MAX = (1 << 18) - 1
SAMPLE_MAX = 4095
FILTER_DEPTH = 8  # history registers of the moving sum (FILTER_LEN <= 8)
FILTER_FORMAT = FixedFormat(16, 16, signed=True)  # ap_int<16>
GAIN_FORMAT = FixedFormat(16, 4, signed=False)  # ap_ufixed<16,4>
PRODUCT_FORMAT = FixedFormat(33, 21, signed=True)  # ap_int<16> * ap_ufixed<16,4>, full precision
ENERGY_FORMAT = FixedFormat(16, 16, signed=False)  # ap_uint<16> channel energy


# ----------------------------------------------------------------------------- pedestal
class PedestalStream:
    """Gated block-average pedestal tracker and baseline subtraction for one channel."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ped = 0  # ap_ufixed<18,12> raw
        self.seeded = False
        self.count = 0  # samples accumulated in the current block
        self.block_sum = 0  # ap_uint<16>
        self.block_max = 0  # ap_uint<12>
        self.out = 0  # output register: ap_int<13>

    def step(self, sample: int, shift: int, block_log2: int, gate: int) -> int:
        y = self.out
        ped = self.ped if self.seeded else sample << PED_FRAC_BITS
        self.seeded = True
        ped_int = min((ped + (1 << (PED_FRAC_BITS - 1))) >> PED_FRAC_BITS, SAMPLE_MAX)  # RND, SAT
        baseline = sample - ped_int
        self.block_sum += sample
        self.block_max = max(self.block_max, sample)
        self.count += 1
        if self.count >= (1 << block_log2):
            if self.block_max <= ped_int + gate:
                target = self.block_sum << (PED_FRAC_BITS - block_log2)
                ped = min(max(ped + ((target - ped) >> shift), 0), PED_RAW_MAX)
            self.block_sum = self.block_max = self.count = 0
        self.ped = ped
        self.out = baseline
        return y


def pedestal_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    z = np.zeros(shape, dtype=np.int64)
    return {"ped": z.copy(), "seeded": np.zeros(shape, dtype=bool), "count": z.copy(),
            "block_sum": z.copy(), "block_max": z.copy(), "out": z.copy()}


def pedestal_block(x: np.ndarray, state: dict[str, np.ndarray], shift: int, block_log2: int,
                   gate: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Vectorised pedestal + baseline subtraction over ``x`` (..., T).

    The pedestal only changes at block ends, so the recursion runs once per block (over all
    lanes at once) and the baseline subtraction is a broadcast within each block.
    """
    x = np.asarray(x, dtype=np.int64)
    T = x.shape[-1]
    st = {k: v.copy() for k, v in state.items()}
    if T == 0:
        return x.copy(), st
    ped = np.where(st["seeded"], st["ped"], x[..., 0] << PED_FRAC_BITS)
    st["seeded"] = np.ones_like(st["seeded"])
    m = 1 << block_log2
    # the clock that closes each block: the first after count reaches m, then every m clocks
    count0 = st["count"]
    # lanes may sit at different block phases; group lanes by phase (at most 16 groups)
    comb = np.empty_like(x)
    new_ped = np.empty_like(ped)
    new_count = np.empty_like(count0)
    new_sum = np.empty_like(count0)
    new_max = np.empty_like(count0)
    phases = np.unique(count0) if count0.any() else np.zeros(1, dtype=np.int64)
    for c0 in phases:
        lanes = count0 == c0
        first_end = max(m - int(c0) - 1, 0)
        ends = np.arange(first_end, T, m)
        starts = np.concatenate([[0], ends + 1])
        starts = starts[starts < T]
        every = bool(lanes.all())

        def pick(a: np.ndarray, every: bool = every, lanes: np.ndarray = lanes) -> np.ndarray:
            return a if every else a[lanes]

        def put(dst: np.ndarray, value: object, every: bool = every, lanes: np.ndarray = lanes) -> None:
            if every:
                dst[...] = value
            else:
                dst[lanes] = value

        xs = pick(x)
        lengths = np.diff(np.concatenate([starts, [T]]))
        uniform = first_end == m - 1  # every segment but the last is a whole block
        # reduceat beats numpy's reduction over many short rows (blocks.sum(axis=-1)) severalfold
        seg_sum = np.add.reduceat(xs, starts, axis=-1)
        seg_max = np.maximum.reduceat(xs, starts, axis=-1)
        seg_sum[..., 0] += pick(st["block_sum"])
        seg_max[..., 0] = np.maximum(seg_max[..., 0], pick(st["block_max"]))
        seg_ped, p = _pedestal_recursion(pick(ped), seg_sum[..., :len(ends)], seg_max[..., :len(ends)],
                                         shift, block_log2, gate)
        if len(ends) < len(starts):  # the open block at the chunk end sees the final pedestal
            seg_ped = np.concatenate([seg_ped, p[..., None]], axis=-1)
        seg_ped_int = np.minimum((seg_ped + (1 << (PED_FRAC_BITS - 1))) >> PED_FRAC_BITS, SAMPLE_MAX)
        if uniform and T % m == 0:
            comb_lanes = (xs.reshape(xs.shape[:-1] + (T // m, m)) - seg_ped_int[..., None]).reshape(xs.shape)
        else:
            comb_lanes = xs - np.repeat(seg_ped_int, lengths, axis=-1)
        if every:
            comb = comb_lanes  # one phase group: no scatter copy
        else:
            comb[lanes] = comb_lanes
        put(new_ped, p)
        if len(ends) == len(starts):  # the chunk ended exactly on a block end
            put(new_count, 0)
            put(new_sum, 0)
            put(new_max, 0)
        else:
            tail = int(lengths[-1])
            put(new_count, tail + (int(c0) if len(ends) == 0 else 0))
            put(new_sum, seg_sum[..., -1])
            put(new_max, seg_max[..., -1])
    st["ped"], st["count"], st["block_sum"], st["block_max"] = new_ped, new_count, new_sum, new_max
    y, st["out"] = register(comb, st["out"])
    return y, st


def _pedestal_recursion(ped: np.ndarray, block_sum: np.ndarray, block_max: np.ndarray, shift: int,
                        block_log2: int, gate: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the gated update over complete blocks (..., n_blocks), all lanes at once.

    Returns (the raw pedestal in effect during each block, the pedestal after the last).
    The recursion is sequential in blocks, so everything that does not depend on the
    pedestal is computed beforehand over all blocks and the loop keeps to a few in-place
    operations on contiguous rows, time-major:
    - the gate ``block_max <= min(round(ped), 4095) + gate`` is ``ped >= 64*(block_max - gate) - 32``
      (block_max <= 4095, so the saturation of the rounding never decides it);
    - the update lies between ``ped`` and the block target, both >= 0, so only the upper
      saturation can act, and only if some target exceeds it (a block lengthened by a
      mid-block change of PED_BLOCK_LOG2).
    """
    lead, n = ped.shape, block_sum.shape[-1]
    R = int(np.prod(lead, dtype=np.int64))
    seen = np.empty((n + 1, R), dtype=np.int64)  # row j: the pedestal during block j
    seen[0] = ped.reshape(R)
    if n == 0:
        return seen[:0].T.reshape(lead + (0,)), ped.copy()
    target = np.ascontiguousarray(block_sum.reshape(R, n).T) << (PED_FRAC_BITS - block_log2)
    gate_min = (np.ascontiguousarray(block_max.reshape(R, n).T) - gate) * (1 << PED_FRAC_BITS) \
        - (1 << (PED_FRAC_BITS - 1))
    saturate = int(target.max()) > PED_RAW_MAX
    step = np.empty(R, dtype=np.int64)
    is_open = np.empty(R, dtype=bool)
    for j in range(n):
        p = seen[j]
        np.subtract(target[j], p, out=step)
        np.right_shift(step, shift, out=step)
        np.greater_equal(p, gate_min[j], out=is_open)
        np.multiply(step, is_open, out=step)
        np.add(p, step, out=seen[j + 1])
        if saturate:
            np.minimum(seen[j + 1], PED_RAW_MAX, out=seen[j + 1])
    return seen[:n].T.reshape(lead + (n,)), seen[n].reshape(lead).copy()


# ----------------------------------------------------------------------------- filter
class FilterStream:
    """Moving sum of the last FILTER_LEN baseline-subtracted samples (ap_int<16>)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.history = [0] * FILTER_DEPTH  # most recent first
        self.out = 0

    def step(self, b: int, length: int) -> int:
        y = self.out
        self.history = [b] + self.history[:-1]
        self.out = sum(self.history[:length])
        return y


def filter_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {"history": np.zeros(shape + (FILTER_DEPTH,), dtype=np.int64),
            "out": np.zeros(shape, dtype=np.int64)}


def filter_block(b: np.ndarray, state: dict[str, np.ndarray], length: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    b = np.asarray(b, dtype=np.int64)
    T = b.shape[-1]
    st = {k: v.copy() for k, v in state.items()}
    if T == 0:
        return b.copy(), st
    hist = st["history"]  # most recent first
    # ext = the history (oldest first) followed by the chunk, so every clock's window of
    # the last ``length`` inputs is one slice; the output register is written in place:
    # y[t] = comb[t-1] = sum of ext over the window ending at clock t-1
    D = FILTER_DEPTH
    ext = np.empty(b.shape[:-1] + (D + T,), dtype=np.int64)
    ext[..., :D] = hist[..., ::-1]
    ext[..., D:] = b
    y = np.empty(b.shape, dtype=np.int64)
    y[..., 0] = st["out"]
    body = y[..., 1:]
    body[...] = ext[..., D:D + T - 1]
    for j in range(1, length):  # add the input j clocks earlier
        body += ext[..., D - j:D - j + T - 1]
    last = ext[..., D + T - 1].copy()  # slice adds: numpy reduces short rows slowly
    for j in range(1, length):
        last += ext[..., D + T - 1 - j]
    st["out"] = last
    st["history"] = ext[..., :T - 1:-1].copy()  # the newest D inputs, most recent first
    return y, st


# ----------------------------------------------------------------------------- gain
def gain_comb(f: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """ap_uint<16> energy = RND/SAT assignment of filter (ap_int<16>) x gain (ap_ufixed<16,4>).

    A product <= 0 rounds to a value <= 0, which SAT makes 0, so only positive filter values
    are multiplied; with ap_int<16> x ap_ufixed<16,4> operands the rounded positive product
    (< 2**31 + 2**11) fits uint32, which halves the memory traffic of int64.
    """
    f = np.asarray(f)
    if f.size and (int(f.min()) < FILTER_FORMAT.raw_min or int(f.max()) > FILTER_FORMAT.raw_max):
        raise ValueError(f"gain input must be an ap_int<16> filter value, got {int(f.min())}..{int(f.max())}")
    return _gain_energy(f, gain)


def _gain_energy(f: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """gain_comb without the range check, for filter outputs (ap_int<16> by construction)."""
    product = np.maximum(f, 0).astype(np.uint32) * np.asarray(gain).astype(np.uint32)
    product += np.uint32(1 << 11)  # RND: half up
    product >>= np.uint32(12)
    return np.minimum(product, np.uint32(65535)).astype(np.int64)  # SAT to ap_uint<16>


class GainStream:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.out = 0

    def step(self, f: int, gain: int) -> int:
        y = self.out
        product = f * gain  # exact, 12 fractional bits
        rounded = (product + (1 << 11)) >> 12  # RND: half up
        self.out = min(max(rounded, 0), 65535)  # SAT to ap_uint<16>
        return y


def gain_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {"out": np.zeros(shape, dtype=np.int64)}


def gain_block(f: np.ndarray, state: dict[str, np.ndarray], gain: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    comb = _gain_energy(np.asarray(f), np.asarray(gain, dtype=np.int64)[..., None])
    st = dict(state)
    y, st["out"] = register(comb, st["out"])
    return y, st


# ----------------------------------------------------------------------------- peak
class PeakStream:
    """Peak finder with hold, on a non-negative stream.

    A peak is reported on the first clock whose input is strictly below the previous one,
    provided the last strict change before it was a rise and the previous value is at least
    ``minimum``; equal inputs (plateaus) neither arm nor disarm it, so a flat top reports one
    peak, with the plateau value, when it ends by a fall. The reported value is held for
    ``hold`` clocks (a new peak replaces it and restarts the hold). Outputs (registered):
    the held value (0 outside a hold) and a one-clock strobe for every peak.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prev = 0
        self.rising = False
        self.held = 0
        self.count = 0
        self.out = 0
        self.strobe = False

    def step(self, x: int, minimum: int, hold: int) -> tuple[int, bool]:
        y, s = self.out, self.strobe
        peak = False
        if x > self.prev:
            self.rising = True
        elif x < self.prev:
            peak = self.rising and self.prev >= minimum
            self.rising = False
        if peak:
            self.held = self.prev
            self.count = hold
        elif self.count > 0:
            self.count -= 1
        self.prev = x
        self.out = self.held if self.count > 0 else 0
        self.strobe = peak
        return y, s


def peak_reset(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    z = np.zeros(shape, dtype=np.int64)
    return {"prev": z.copy(), "rising": np.zeros(shape, dtype=bool), "held": z.copy(),
            "count": z.copy(), "out": z.copy(), "strobe": np.zeros(shape, dtype=bool)}


_KEY_VALUE_BITS = 16
_KEY_VALUE_MASK = (1 << _KEY_VALUE_BITS) - 1


def peak_block(x: np.ndarray, state: dict[str, np.ndarray], minimum: np.ndarray | int,
               hold: int, method: str | None = None,
               strobe: bool = True) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """Vectorised peak finder: returns (held (..., T), strobe (..., T), state).

    Two formulations of the same recursion, chosen by shape (or ``method``):
    ``"scan"`` vectorises over rows and steps through the clocks (wide, short chunks such as
    recorded windows); ``"fill"`` vectorises over time with forward fills (long streams).
    ``strobe=False`` skips the strobe output (returned as None; its register still updates).
    """
    x = np.asarray(x, dtype=np.int64)
    lead, T = x.shape[:-1], x.shape[-1]
    st = {k: v.copy() for k, v in state.items()}
    if T == 0:
        return x.copy(), np.zeros(x.shape, dtype=bool), st
    R = int(np.prod(lead, dtype=np.int64))
    if method is None:
        method = "scan" if R >= 4 * T else "fill"
    if method == "scan":
        return _peak_scan(x, st, minimum, hold, strobe)
    if method != "fill":
        raise ValueError(f"peak_block method must be 'scan' or 'fill', got {method!r}")
    if x.size and (int(x.min()) < 0 or int(x.max()) > _KEY_VALUE_MASK):
        raise ValueError(f"peak finder input must be within 0..{_KEY_VALUE_MASK} (ap_uint<16>)")
    return _peak_fill(x, st, minimum, hold, strobe)


def _peak_fill(x: np.ndarray, st: dict[str, np.ndarray], minimum: np.ndarray | int,
               hold: int, strobe: bool) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """Peak finder vectorised over time, time-major, with two forward fills.

    Both fills are running maxima of keys ``clock << bits | payload`` (zero where nothing
    happens), so each row carries the latest event's clock and payload without a gather:
    - the direction of the last strict change (rising or falling); row 0 holds the state;
    - the last peak and its value, clocks offset by ``hold + 1`` so that key 0 means none.
    The state's hold (``count`` clocks still to show ``held``) only matters before the first
    peak of the chunk, in at most ``count`` leading clocks, which are patched afterwards.
    Keys fit int32 for chunks shorter than 2**15 clocks, which keeps the passes narrow.
    """
    lead, T = x.shape[:-1], x.shape[-1]
    R = int(np.prod(lead, dtype=np.int64))
    key_t = np.int32 if T + hold + 2 < (1 << (31 - _KEY_VALUE_BITS)) else np.int64
    seq = np.empty((T + 1, R), dtype=key_t)  # row 0: the previous input register
    seq[0] = st["prev"].reshape(R)
    seq[1:] = x.reshape(R, T).T
    prev, cur = seq[:-1], seq[1:]
    up = cur > prev
    down = cur < prev
    clocks = np.arange(1, T + 1, dtype=key_t)[:, None]
    # direction fill: key 2*clock + up for a change, row 0 = rising state at clock 0
    direction = np.empty((T + 1, R), dtype=key_t)
    direction[0] = st["rising"].reshape(R)
    np.add(clocks * 2, up, out=direction[1:])
    np.multiply(direction[1:], up | down, out=direction[1:])
    np.maximum.accumulate(direction, axis=0, out=direction)
    mins = np.broadcast_to(np.asarray(minimum, dtype=key_t), lead).reshape(R)
    peak = down
    peak &= (direction[:-1] & 1) != 0
    peak &= prev >= mins
    # peak fill: key (clock + hold) << bits | value
    last = np.bitwise_or((clocks + hold) << _KEY_VALUE_BITS, prev)
    np.multiply(last, peak, out=last)
    np.maximum.accumulate(last, axis=0, out=last)
    shown = (last >> _KEY_VALUE_BITS) > clocks  # the peak's hold still covers this clock
    comb = np.bitwise_and(last, _KEY_VALUE_MASK)
    comb *= shown
    count0 = st["count"].reshape(R)
    head = min(int(count0.max(initial=0)) - 1, T)
    if head > 0:  # before the chunk's first peak, the state's hold shows its value
        from_state = (count0 - 1 > np.arange(head)[:, None]) & (last[:head] == 0)
        comb[:head] = np.where(from_state, st["held"].reshape(R), comb[:head])
    end = last[-1]
    any_peak = end != 0
    lp_end = (end >> _KEY_VALUE_BITS).astype(np.int64) - hold - 1
    st["held"] = np.where(any_peak, end & _KEY_VALUE_MASK, st["held"].reshape(R)).reshape(lead)
    st["count"] = np.where(any_peak, np.maximum(hold - (T - 1 - lp_end), 0),
                           np.maximum(count0 - T, 0)).reshape(lead)
    st["rising"] = ((direction[-1] & 1) != 0).reshape(lead)
    st["prev"] = x[..., -1].copy()
    y = np.empty((R, T), dtype=np.int64)
    y[:, 0] = st["out"].reshape(R)
    y[:, 1:] = comb[:-1].T
    st["out"] = comb[-1].astype(np.int64).reshape(lead)
    return y.reshape(x.shape), _strobe(peak, st, x.shape, strobe), st


def _strobe(peak_t: np.ndarray, st: dict[str, np.ndarray], shape: tuple[int, ...], wanted: bool) -> np.ndarray | None:
    """The registered strobe from time-major peaks; only the register when not wanted."""
    if not wanted:
        st["strobe"] = peak_t[-1].reshape(shape[:-1]).copy()
        return None
    y, st["strobe"] = register(peak_t.T.reshape(shape), st["strobe"])
    return y


def _peak_scan(x: np.ndarray, st: dict[str, np.ndarray], minimum: np.ndarray | int,
               hold: int, strobe: bool) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    lead, T = x.shape[:-1], x.shape[-1]
    R = int(np.prod(lead, dtype=np.int64))
    xt = np.ascontiguousarray(x.reshape(R, T).T)
    mins = np.broadcast_to(np.asarray(minimum, dtype=np.int64), lead).reshape(R)
    prev = st["prev"].reshape(R).copy()
    rising = st["rising"].reshape(R).copy()
    held = st["held"].reshape(R).copy()
    count = st["count"].reshape(R).copy()
    comb = np.empty_like(xt)
    peaks = np.empty(xt.shape, dtype=bool)
    zero = np.int64(0)
    for t in range(T):
        v = xt[t]
        up = v > prev
        down = v < prev
        peak = down & rising & (prev >= mins)
        rising = up | (rising & ~down)
        held = np.where(peak, prev, held)
        count = np.where(peak, hold, np.maximum(count - 1, zero))
        comb[t] = np.where(count > 0, held, zero)
        peaks[t] = peak
        prev = v
    st["prev"], st["rising"] = prev.reshape(lead), rising.reshape(lead)
    st["held"], st["count"] = held.reshape(lead), count.reshape(lead)
    y, st["out"] = register(comb.T.reshape(x.shape), st["out"])
    return y, _strobe(peaks, st, x.shape, strobe), st
