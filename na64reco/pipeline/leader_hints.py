"""Windows fitted at the pulse times of their event's leading channel.

Every particle of an event reaches all channels of a detector within a nanosecond or so (after
each channel's calibrated delay), so the pulse times one channel's free fit found serve the
others. The leader, fitted freely, is the channel of the leading planes with the largest signal
of its event (the largest span of its even or odd samples) whose samples stay below the ADC's
overflow (a clipped peak times its pulse worse); every other window of the detector is then
offered the leader's pulse times, moved by the difference of the two channels' time means,
and keeps the amplitudes fitted at those times when the pile-up prefilter finds nothing
suspicious in them (no chi2 excess, no residual bump: ``WaveformFitter.fit(..., hints=...)``,
flag ``hinted``). A window that saw a particle the leader did not, or whose pulse lies off the
leader's time, is fitted freely as without hints. The ECAL is also offered the beam counters'
leader's times (every beam particle crosses the counters, also those the ECAL's leading cell
misses). On a simulated 3 MHz run 85 % of the ECAL windows keep their hinted amplitudes
(docs/reconstruction.md, docs/scaling.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..waveform import TimeHints

__all__ = ["ClockTimes", "EXTRA_HINTS", "HINTED", "LEADER_PLANES", "leaders_of_events", "fit_with_leader_hints",
           "reaches_overflow"]

# Detector kinds with a leader per event, and the planes it is chosen from (the largest
# signal of an event among their channels): the ECAL's main section, the SRD modules (the
# same electrons' synchrotron photons), the beam counters S1..S4 (every beam particle).
LEADER_PLANES: dict[str, tuple[str, ...]] = {
    "ecal": ("ECAL1",),
    "counter": ("S1", "S2", "S3", "S4"),
    "srd": ("SRD",),
}
# The kinds whose other windows are fitted at their leader's times. Not the counters: the
# master time is the median of four independently timed counters, whose spread tells a pair
# of particles merged into one pulse (docs/reconstruction.md); hinted, three of them would
# carry their leader's time (on a simulated 3 MHz run the master time was then right 1 %
# less often with another particle 20-50 ns away).
HINTED: tuple[str, ...] = ("ecal", "srd")
# ... and the kinds whose leaders' times join a kind's own leader's (fitted before it): the
# beam counters see every particle that reaches the ECAL, also those its leading cell misses
EXTRA_HINTS: dict[str, tuple[str, ...]] = {"ecal": ("counter",)}
# the order of the fits: hint sources first
FIT_ORDER = ("counter", "srd", "ecal", "hcal", "veto")


def reaches_overflow(span: np.ndarray, lowest: np.ndarray, overflow: int = 4095, margin: int = 64) -> np.ndarray:
    """Windows whose samples (probably) reach the ADC's overflow, from ``raw.parity_span_and_lowest``:
    the largest span of one parity's samples reaches the overflow from within ``margin`` of
    the lowest sample (the two parities' pedestals lie closer than that). A clipped peak times
    its pulse worse than an unclipped one; such windows are fitted freely anyway (their
    clipped samples are masked) and lead no other."""
    return np.asarray(span, dtype=np.int64) + np.asarray(lowest, dtype=np.int64) >= overflow - margin


def leaders_of_events(event: np.ndarray, candidate: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Positions (into ``event``) of each event's leader: among the rows with ``candidate``
    set, the one with the largest ``size`` (the first of equals), one per event that has a
    candidate, in event order. ``event`` must be non-decreasing (a batch's digits are)."""
    cand = np.flatnonzero(candidate)
    if cand.size == 0:
        return cand
    ev = event[cand]
    sz = np.asarray(size)[cand]
    # per event (a run of equal events): the largest size, and the first candidate holding it
    starts = np.flatnonzero(np.concatenate([[True], ev[1:] != ev[:-1]]))
    largest = np.maximum.reduceat(sz, starts)
    at_max = np.flatnonzero(sz == np.repeat(largest, np.diff(np.append(starts, sz.size))))
    group = np.searchsorted(starts, at_max, side="right") - 1
    first = np.concatenate([[True], group[1:] != group[:-1]])
    return cand[at_max[first]]


@dataclass(frozen=True)
class ClockTimes:
    """Pulse times of an event's leading channel on the detectors' common clock (its fitted
    times minus its calibrated delay), by event: ``times[offsets[e]:offsets[e + 1]]`` in time
    order for event e."""

    times: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of_events(cls, event: np.ndarray, times: np.ndarray, n_events: int) -> "ClockTimes":
        """From per-pulse (event, time), in (event, time) order."""
        order = np.lexsort((times, event))
        return _clock(np.asarray(event)[order], np.asarray(times, dtype=np.float64)[order], n_events)

    def event_of_time(self) -> np.ndarray:
        return np.repeat(np.arange(self.offsets.size - 1), np.diff(self.offsets))

    def joined(self, extra: "ClockTimes", min_gap_ns: float) -> "ClockTimes":
        """These times and those of ``extra`` farther than ``min_gap_ns`` from every one of
        these in the same event (where both saw a particle, these times stand)."""
        n_events = self.offsets.size - 1
        ev = np.concatenate([self.event_of_time(), extra.event_of_time()])
        t = np.concatenate([self.times, extra.times])
        own = np.concatenate([np.ones(self.times.size, bool), np.zeros(extra.times.size, bool)])
        # (event, time) order of two runs already in that order: one merge of a float key
        # (times of a window lie within +-2^14 ns, events below 2^30: exact in a double)
        order = np.argsort(ev * 32768.0 + np.clip(t, -16383.0, 16383.0), kind="stable")
        ev, t, own = ev[order], t[order], own[order]
        # the nearest own time before and after each entry, within its event
        idx = np.arange(t.size)
        before = np.maximum.accumulate(np.where(own, idx, -1))
        after = np.minimum.accumulate(np.where(own, idx, t.size)[::-1])[::-1]
        near = np.zeros(t.size, bool)
        ok = before >= 0
        near[ok] |= (ev[before[ok]] == ev[ok]) & (t[ok] - t[before[ok]] < min_gap_ns)
        ok = after < t.size
        near[ok] |= (ev[after[ok]] == ev[ok]) & (t[after[ok]] - t[ok] < min_gap_ns)
        keep = own | ~near
        return ClockTimes(t[keep], np.searchsorted(ev[keep], np.arange(n_events + 1)))


def _clock(event: np.ndarray, times: np.ndarray, n_events: int) -> ClockTimes:
    """ClockTimes of pulses already in (event, time) order."""
    return ClockTimes(times, np.concatenate([[0], np.cumsum(np.bincount(event, minlength=n_events))]))


def fit_with_leader_hints(fitter: Any, samples: np.ndarray, nsamples: np.ndarray, rows: np.ndarray, event: np.ndarray,
                          leader: np.ndarray, time_mean_ns: np.ndarray, n_events: int, extra: ClockTimes | None = None,
                          hint_others: bool = True,
                          takes_hints: np.ndarray | None = None) -> tuple[list[tuple[np.ndarray, Any]], ClockTimes]:
    """Fit the windows ``samples[rows]`` (``event``: each one's event, non-decreasing;
    ``time_mean_ns``: each one's calibrated delay) in two parts: the ``leader`` positions
    freely, then every other window with its event's leader's pulse times as hints (joined by
    the ``extra`` times of other detectors' leaders that these do not have within a quarter
    sample); with ``hint_others`` false, every window freely in one part. ``takes_hints``
    (per window, default all): the windows offered hints (the others are fitted freely; their
    ``time_mean_ns`` is not read). Returns ``([(rows, their FitResult), ...], the leaders'
    times on the common clock)``."""
    is_leader = np.zeros(rows.size, bool)
    is_leader[leader] = True
    if not hint_others:
        res = fitter.fit(samples, nsamples=nsamples, rows=rows)
        wave = np.asarray(res.pulses["wave"])
        mine = np.flatnonzero(is_leader[wave])  # (event, time) order: rows are in event order
        return [(rows, res)], _clock(event[wave[mine]], np.asarray(res.pulses["time_ns"])[mine] - time_mean_ns[wave[mine]],
                                     n_events)
    others = np.flatnonzero(~is_leader)
    lead_res = fitter.fit(samples, nsamples=nsamples, rows=rows[leader])
    wave = np.asarray(lead_res.pulses["wave"])
    # the leaders' pulses in event order (leaders are), each leader's in time order: its times
    # on the common clock (minus the leader's delay)
    clock = _clock(event[leader][wave], np.asarray(lead_res.pulses["time_ns"]) - time_mean_ns[leader][wave], n_events)
    quarter_sample = 0.25 * float(fitter.options.get("sampling_ns", 12.5))  # the fitter merges closer pulses
    hint_times = clock if extra is None else clock.joined(extra, quarter_sample)
    group = event[others]
    shift = time_mean_ns[others]
    if takes_hints is not None:
        group = np.where(takes_hints[others], group, -1)
        shift = np.where(takes_hints[others], shift, 0.0)
    hints = TimeHints(hint_times.times, hint_times.offsets, group, shift)
    other_res = fitter.fit(samples, nsamples=nsamples, rows=rows[others], hints=hints)
    return [(rows[leader], lead_res), (rows[others], other_res)], clock
