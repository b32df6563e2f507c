"""Small DATE runs for the pipeline tests, written with ``na64reco.raw.write_raw``."""

from __future__ import annotations

import numpy as np

from na64reco.raw import write_raw


def run_tables(nspills: int = 3, per_spill: int = 50, run: int = 3661, seed: int = 1):
    """Events (start of burst, physics, end of burst per spill) with MSADC digits and F1 hits."""
    rng = np.random.default_rng(seed)
    types, spills, in_spill = [], [], []
    for spill in range(1, nspills + 1):
        types += [5] + [7] * per_spill + [6]
        spills += [spill] * (per_spill + 2)
        in_spill += list(range(per_spill + 2))
    n = len(types)
    events = {
        "run": np.full(n, run),
        "spill": np.asarray(spills),
        "event_in_run": np.arange(n),
        "event_in_spill": np.asarray(in_spill),
        "type": np.asarray(types),
        "trigger_mask": rng.integers(1, 8, n),
        "time": 1_700_000_000 + np.asarray(spills),
    }
    physics = np.flatnonzero(np.asarray(types) == 7)
    ndig = rng.integers(0, 4, physics.size)
    ev = np.repeat(physics, ndig)
    nd = ev.size
    t = np.arange(32)
    amp = rng.uniform(10, 1500, nd)
    peak = rng.uniform(8, 14, nd)
    shape = np.clip(t[None, :] - peak[:, None] + 4, 0, None)
    samples = (100 + amp[:, None] * (shape / 4) ** 2 * np.exp(-(shape - 4) / 2.5).clip(0, 1)).astype(np.uint16)
    samples = np.minimum(samples, 4095)
    sadc = {
        "event": ev,
        "source_id": np.full(nd, 610),
        "port": rng.integers(0, 4, nd),
        "chip": np.zeros(nd, int),
        "channel": rng.integers(0, 16, nd),
        "nsamples": np.full(nd, 32),
        "samples": samples,
    }
    nh = physics.size
    tdc = {
        "event": physics,
        "source_id": np.full(nh, 700),
        "port": np.zeros(nh, int),
        "chip": np.zeros(nh, int),
        "channel": rng.integers(0, 8, nh),
        "raw_time": rng.integers(1000, 3000, nh),
        "trigger_time": np.full(nh, 5),
    }
    return events, sadc, tdc


def write_run(path, nspills: int = 3, per_spill: int = 50, run: int = 3661, seed: int = 1) -> int:
    """Write a run; returns its number of DATE events."""
    events, sadc, tdc = run_tables(nspills, per_spill, run, seed)
    write_raw(path, events, sadc, tdc)
    return len(events["run"])


def date_events(n: int, run: int = 1) -> bytes:
    """``n`` bare physics events (no digits) as bytes."""
    import io

    events = {
        "run": np.full(n, run),
        "spill": np.ones(n, int),
        "event_in_run": np.arange(n),
        "event_in_spill": np.arange(n),
        "type": np.full(n, 7),
        "trigger_mask": np.ones(n, int),
    }
    buf = io.BytesIO()
    write_raw(buf, events)
    return buf.getvalue()
