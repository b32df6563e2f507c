"""Calorimeter windows fitted at the pulse times of their event's leading channel.

Every particle of an event reaches all cells of the ECAL within a nanosecond or so (after each
cell's calibrated delay), so the pulse times one cell's free fit found serve the others. The
leader, fitted freely, is the main section's channel with the largest signal of its event (the
largest span of its even or odd samples); every other ECAL window is then offered the leader's
pulse times, moved by the difference of the two cells' time means, and keeps the amplitudes
fitted at those times when the pile-up prefilter finds nothing suspicious in them (no chi2
excess, no residual bump: ``WaveformFitter.fit(..., hints=...)``, flag ``hinted``). A window
that saw a particle the leader did not, or whose pulse lies off the leader's time, is fitted
freely as without hints. On a simulated 3 MHz run about four ECAL windows in five keep their
hinted amplitudes, and the ECAL's fit time drops by about a third
(``benchmarks/bench_pipeline.py``; docs/scaling.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..waveform import TimeHints

__all__ = ["LEADER_PLANES", "leaders_of_events", "fit_with_leader_hints"]

# Detector kinds whose windows are fitted at their leader's pulse times, and the planes the
# leader is chosen from (the largest signal of an event among their channels). The beam
# counters see every beam particle (one of S1..S4 serves the others and the veto counters),
# the SRD modules the same electrons' synchrotron photons.
LEADER_PLANES: dict[str, tuple[str, ...]] = {
    "ecal": ("ECAL1",),
    "counter": ("S1", "S2", "S3", "S4"),
    "srd": ("SRD",),
}


def leaders_of_events(event: np.ndarray, candidate: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Positions (into ``event``) of each event's leader: among the rows with ``candidate``
    set, the one with the largest ``size`` (the first of equals), one per event that has a
    candidate, in event order. ``event`` must be non-decreasing (a batch's digits are)."""
    cand = np.flatnonzero(candidate)
    if cand.size == 0:
        return cand
    ev = event[cand]
    # largest size first within each event; the stable sort keeps the first of equals first
    order = cand[np.lexsort((-np.asarray(size[cand], dtype=np.int64), ev))]
    ev_sorted = event[order]
    first = np.ones(order.size, bool)
    first[1:] = ev_sorted[1:] != ev_sorted[:-1]
    return order[first]


def fit_with_leader_hints(fitter: Any, samples: np.ndarray, nsamples: np.ndarray, rows: np.ndarray, event: np.ndarray,
                          leader: np.ndarray, time_mean_ns: np.ndarray, n_events: int) -> list[tuple[np.ndarray, Any]]:
    """Fit the windows ``samples[rows]`` (``event``: each one's event, non-decreasing;
    ``time_mean_ns``: each one's calibrated delay) in two parts: the ``leader`` positions
    freely, then every other window with its event's leader's pulse times as hints. Returns
    ``[(rows of the leaders, their FitResult), (rows of the others, their FitResult)]``."""
    is_leader = np.zeros(rows.size, bool)
    is_leader[leader] = True
    others = np.flatnonzero(~is_leader)
    lead_res = fitter.fit(samples, nsamples=nsamples, rows=rows[leader])
    pulses = lead_res.pulses
    wave = np.asarray(pulses["wave"])
    # the leaders' pulses in event order (leaders are), each leader's in time order: its times
    # as the ECAL's common clock (minus the leader's delay), one group per leader
    times = np.asarray(pulses["time_ns"]) - time_mean_ns[leader][wave]
    offsets = np.searchsorted(wave, np.arange(leader.size + 1))
    group_of_event = np.full(n_events, -1, np.int64)
    group_of_event[event[leader]] = np.arange(leader.size)
    hints = TimeHints(times, offsets, group_of_event[event[others]], time_mean_ns[others])
    other_res = fitter.fit(samples, nsamples=nsamples, rows=rows[others], hints=hints)
    return [(rows[leader], lead_res), (rows[others], other_res)]
