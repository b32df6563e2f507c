"""Small DATE runs for the pipeline tests, written with ``na64reco.raw.write_raw``."""

from __future__ import annotations

import numpy as np

from na64reco.detector import load_setup
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
    # ECAL main-section cells (plane 1) and straw tubes at their mapped readout addresses;
    # one digit in four lands on an address no map names.
    setup = load_setup(run)
    cx, cy = rng.integers(0, 6, nd), rng.integers(0, 6, nd)
    addr = setup.sadc_address(np.ones(nd, int), cx, cy)
    unmapped = rng.random(nd) < 0.25
    # one digit per (event, cell): duplicates are dropped
    key = ev * 64 + np.where(unmapped, 40 + cx, cy * 6 + cx)
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(nd, bool)
    keep[first] = True
    sadc = {
        "event": ev[keep],
        "source_id": np.where(unmapped, 800, addr["source_id"])[keep],
        "port": np.where(unmapped, 0, addr["port"])[keep],
        "chip": np.where(unmapped, 0, addr["chip"])[keep],
        "channel": np.where(unmapped, cx, addr["channel"])[keep],
        "nsamples": np.full(nd, 32)[keep],
        "samples": samples[keep],
    }
    nh = physics.size
    taddr = setup.straw_address(rng.integers(0, 4, nh), rng.integers(0, 2, nh), rng.integers(0, 32, nh))
    tdc = {
        "event": physics,
        "source_id": taddr["source_id"],
        "port": taddr["port"],
        "chip": taddr["chip"],
        "channel": taddr["channel"],
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
