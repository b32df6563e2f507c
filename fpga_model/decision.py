"""Trigger decision: physics / beam (prescaled) / random, pile-up flag, dead time, output word.

Output word (uint64), emitted (registered) one clock after the decision clock:

====  ==========  ============================================================
bit   name        meaning
====  ==========  ============================================================
0     PHYSICS     beam coincidence, no veto, pre-shower > PRS_THRESHOLD, ECAL < ECAL_THRESHOLD
1     BEAM        prescaled beam coincidence
2     RANDOM      random trigger (LFSR)
3     PILEUP      second beam edge or second ECAL-sum peak in the windows
4     VETO        a veto counter fired between the beam edge and the decision
5     PRS_OVER    pre-shower sum above its threshold at the decision clock
6     ECAL_UNDER  ECAL total below its threshold at the decision clock
7     COINC       the decision was started by a beam coincidence
8-15  (zero)
16-63 timestamp   decision clock, counted from reset, modulo 2**48
====  ==========  ============================================================

A word is produced for every decision (bits 0-2 say whether it triggered) and for every
random trigger; clocks without a decision carry 0.
"""

from __future__ import annotations

import bisect

import numpy as np

from ._util import register

__all__ = [
    "BIT_PHYSICS", "BIT_BEAM", "BIT_RANDOM", "BIT_PILEUP", "BIT_VETO", "BIT_PRS_OVER",
    "BIT_ECAL_UNDER", "BIT_COINC", "TRIGGER_MASK", "TIMESTAMP_SHIFT", "TIMESTAMP_BITS",
    "IDLE", "PENDING", "DEAD", "LFSR_TAPS", "lfsr_step", "DecisionStream", "decision_block",
    "decision_reset",
]

BIT_PHYSICS, BIT_BEAM, BIT_RANDOM, BIT_PILEUP = 1, 2, 4, 8
BIT_VETO, BIT_PRS_OVER, BIT_ECAL_UNDER, BIT_COINC = 16, 32, 64, 128
TRIGGER_MASK = BIT_PHYSICS | BIT_BEAM | BIT_RANDOM
TIMESTAMP_SHIFT = 16
TIMESTAMP_BITS = 48
TIMESTAMP_MASK = (1 << TIMESTAMP_BITS) - 1
IDLE, PENDING, DEAD = 0, 1, 2
SINCE_BEAM_MAX = 255  # ap_uint<8> saturating "clocks since the last beam edge"
SUM_PEAKS_MAX = 3  # ap_uint<2> saturating count of ECAL-sum peaks
PRESCALE_MAX = 65535
# Galois LFSR, x^32 + x^22 + x^2 + x + 1 (maximal length), shifted right each clock
LFSR_TAPS = 0x80200003


def lfsr_step(value: int) -> int:
    lsb = value & 1
    value >>= 1
    return value ^ LFSR_TAPS if lsb else value


class DecisionStream:
    def __init__(self, seed: int) -> None:
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.mode = IDLE
        self.count = 0
        self.veto = False
        self.pileup = False
        self.sum_peaks = 0
        self.since_beam = SINCE_BEAM_MAX
        self.prescale = 0
        self.lfsr = seed
        self.timestamp = 0
        self.out = 0

    def step(self, edge: bool, veto: bool, sum_peak: bool, prs: int, ecal: int, hcal: int,
             regs: dict[str, int]) -> int:
        y = self.out
        now = self.timestamp
        word = 0
        request = False
        if regs["RANDOM_THRESHOLD"] != 0:
            self.lfsr = lfsr_step(self.lfsr)
            request = self.lfsr < regs["RANDOM_THRESHOLD"]
        if self.mode == PENDING:
            self.veto |= veto
            self.pileup |= edge
            self.sum_peaks = min(self.sum_peaks + int(sum_peak), SUM_PEAKS_MAX)
            self.count -= 1
            if self.count == 0:
                word = self._decide(now, prs, ecal, hcal, regs)
        elif self.mode == DEAD:
            self.count -= 1
            if self.count == 0:
                self.mode = IDLE
        elif edge:
            self.mode = PENDING
            self.count = regs["DECISION_DELAY"]
            self.veto = veto
            self.pileup = self.since_beam <= regs["PILEUP_WINDOW"]
            self.sum_peaks = int(sum_peak)
        elif request:
            word = BIT_RANDOM | now << TIMESTAMP_SHIFT
            self._start_dead(regs)
        self.since_beam = 0 if edge else min(self.since_beam + 1, SINCE_BEAM_MAX)
        self.timestamp = (now + 1) & TIMESTAMP_MASK
        self.out = word
        return y

    def _start_dead(self, regs: dict[str, int]) -> None:
        if regs["DEAD_TIME"] > 0:
            self.mode, self.count = DEAD, regs["DEAD_TIME"]
        else:
            self.mode = IDLE

    def _decide(self, now: int, prs: int, ecal: int, hcal: int, regs: dict[str, int]) -> int:
        prs_over = prs > regs["PRS_THRESHOLD"]
        ecal_under = ecal < regs["ECAL_THRESHOLD"]
        physics = prs_over and ecal_under and not self.veto
        beam = False
        if regs["BEAM_PRESCALE"] != 0:
            self.prescale = min(self.prescale + 1, PRESCALE_MAX)
            if self.prescale >= regs["BEAM_PRESCALE"]:
                beam, self.prescale = True, 0
        pileup = self.pileup or self.sum_peaks >= 2
        word = (BIT_PHYSICS * physics | BIT_BEAM * beam | BIT_PILEUP * pileup | BIT_VETO * self.veto
                | BIT_PRS_OVER * prs_over | BIT_ECAL_UNDER * ecal_under | BIT_COINC
                | now << TIMESTAMP_SHIFT)
        if physics or beam:
            self._start_dead(regs)
        else:
            self.mode = IDLE
        return word


# ----------------------------------------------------------------------------- block model
def decision_reset(shape: tuple[int, ...], seed: int) -> dict[str, np.ndarray]:
    z = np.zeros(shape, dtype=np.int64)
    return {"mode": z.copy(), "count": z.copy(), "veto": np.zeros(shape, dtype=bool),
            "pileup": np.zeros(shape, dtype=bool), "sum_peaks": z.copy(),
            "since_beam": np.full(shape, SINCE_BEAM_MAX, dtype=np.int64), "prescale": z.copy(),
            "lfsr": np.full(shape, seed, dtype=np.int64), "timestamp": z.copy(),
            "out": np.zeros(shape, dtype=np.uint64)}


def _random_requests(lfsr0: np.ndarray, T: int, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """LFSR requests over T clocks for every lane; returns (requests (..., T), lfsr after)."""
    flat = lfsr0.reshape(-1)
    req = np.zeros((flat.size, T), dtype=bool)
    end = flat.copy()
    if threshold == 0:
        return req.reshape(lfsr0.shape + (T,)), end.reshape(lfsr0.shape)
    # lanes that share a start value share their whole sequence: step each distinct value once
    values, inverse = np.unique(flat, return_inverse=True)
    seq = np.zeros((values.size, T), dtype=bool)
    ends = np.zeros(values.size, dtype=np.int64)
    for k, v in enumerate(values.tolist()):
        row = seq[k]
        for t in range(T):
            v = (v >> 1) ^ LFSR_TAPS if v & 1 else v >> 1
            row[t] = v < threshold
        ends[k] = v
    return seq[inverse].reshape(lfsr0.shape + (T,)), ends[inverse].reshape(lfsr0.shape)


def decision_block(edge: np.ndarray, veto: np.ndarray, sum_peak: np.ndarray, prs: np.ndarray,
                   ecal: np.ndarray, hcal: np.ndarray, state: dict[str, np.ndarray],
                   regs: dict[str, int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Event-driven FSM: jumps from one beam edge / random request / countdown end to the next.

    Inputs are (..., T); lanes are independent. Returns (words (..., T) registered, state).
    """
    edge = np.asarray(edge, dtype=bool)
    shape, T = edge.shape[:-1], edge.shape[-1]
    st = {k: v.copy() for k, v in state.items()}
    if T == 0:
        return np.zeros(edge.shape, dtype=np.uint64), st
    request, st["lfsr"] = _random_requests(st["lfsr"], T, regs["RANDOM_THRESHOLD"])
    words = np.zeros(edge.shape, dtype=np.uint64)
    lanes = int(np.prod(shape, dtype=np.int64))
    e2 = edge.reshape(lanes, T)
    r2 = request.reshape(lanes, T)
    flat = {k: v.reshape(lanes) for k, v in st.items()}
    busy = np.flatnonzero((flat["mode"] != IDLE) | e2.any(axis=1) | r2.any(axis=1))
    if busy.size:
        # the FSM is a scalar recursion per lane: run it on Python lists of the busy lanes
        rows = [np.asarray(a).reshape(lanes, T)[busy].tolist() for a in (edge, veto, sum_peak, request, prs, ecal)]
        w2 = words.reshape(lanes, T)
        for i, lane in enumerate(busy.tolist()):
            _decision_lane(*(r[i] for r in rows), w2[lane], flat, lane, regs)
    # since_beam and timestamp advance the same way whatever the FSM did
    t = np.arange(T)
    last_edge = np.where(e2, t, -1).max(axis=1)
    flat["since_beam"] = np.where(last_edge >= 0, np.minimum(T - 1 - last_edge, SINCE_BEAM_MAX),
                                  np.minimum(flat["since_beam"] + T, SINCE_BEAM_MAX))
    ts0 = flat["timestamp"].copy()
    flat["timestamp"] = (ts0 + T) & TIMESTAMP_MASK
    st = {k: v.reshape(shape) for k, v in flat.items()}
    y, st["out"] = register(words, st["out"])
    return y, st


def _decision_lane(edge: list, veto: list, sum_peak: list, request: list, prs: list, ecal: list,
                   words: np.ndarray, st: dict[str, np.ndarray], lane: int, regs: dict[str, int]) -> None:
    """One lane's FSM, jumping from event to event (beam edge, random request, countdown end)."""
    T = len(edge)
    mode = int(st["mode"][lane])
    count = int(st["count"][lane])
    veto_l = bool(st["veto"][lane])
    pileup = bool(st["pileup"][lane])
    sum_peaks = int(st["sum_peaks"][lane])
    prescale = int(st["prescale"][lane])
    ts0 = int(st["timestamp"][lane])
    since0 = int(st["since_beam"][lane])
    edges = [t for t, e in enumerate(edge) if e]
    requests = [t for t, r in enumerate(request) if r]
    dead_time = regs["DEAD_TIME"]

    def after_trigger() -> tuple[int, int]:
        return (DEAD, dead_time) if dead_time > 0 else (IDLE, 0)

    t = 0
    while t < T:
        if mode == PENDING:
            end = t + count - 1
            stop = min(end, T - 1) + 1
            veto_l = veto_l or any(veto[t:stop])
            pileup = pileup or any(edge[t:stop])
            sum_peaks = min(sum_peaks + sum(sum_peak[t:stop]), SUM_PEAKS_MAX)
            if end >= T:
                count -= T - t
                break
            now = (ts0 + end) & TIMESTAMP_MASK
            prs_over = prs[end] > regs["PRS_THRESHOLD"]
            ecal_under = ecal[end] < regs["ECAL_THRESHOLD"]
            physics = prs_over and ecal_under and not veto_l
            beam = False
            if regs["BEAM_PRESCALE"] != 0:
                prescale = min(prescale + 1, PRESCALE_MAX)
                if prescale >= regs["BEAM_PRESCALE"]:
                    beam, prescale = True, 0
            flag = pileup or sum_peaks >= 2
            words[end] = (BIT_PHYSICS * physics | BIT_BEAM * beam | BIT_PILEUP * flag
                          | BIT_VETO * veto_l | BIT_PRS_OVER * prs_over
                          | BIT_ECAL_UNDER * ecal_under | BIT_COINC | now << TIMESTAMP_SHIFT)
            mode, count = after_trigger() if (physics or beam) else (IDLE, 0)
            t = end + 1
        elif mode == DEAD:
            end = t + count - 1
            if end >= T:
                count -= T - t
                break
            mode, count = IDLE, 0
            t = end + 1
        else:
            i = bisect.bisect_left(edges, t)
            j = bisect.bisect_left(requests, t)
            next_edge = edges[i] if i < len(edges) else T
            next_request = requests[j] if j < len(requests) else T
            if next_edge >= T and next_request >= T:
                break
            if next_edge <= next_request:
                k = next_edge
                since = k - edges[i - 1] - 1 if i > 0 else since0 + k
                mode, count = PENDING, regs["DECISION_DELAY"]
                veto_l = bool(veto[k])
                pileup = min(since, SINCE_BEAM_MAX) <= regs["PILEUP_WINDOW"]
                sum_peaks = int(sum_peak[k])
            else:
                k = next_request
                words[k] = BIT_RANDOM | ((ts0 + k) & TIMESTAMP_MASK) << TIMESTAMP_SHIFT
                mode, count = after_trigger()
            t = k + 1
    st["mode"][lane] = mode
    st["count"][lane] = count
    st["veto"][lane] = veto_l
    st["pileup"][lane] = pileup
    st["sum_peaks"][lane] = sum_peaks
    st["prescale"][lane] = prescale
