"""Emulating the trigger on a raw file and comparing with the recorded trigger bits.

Project convention: the DATE trigger mask of a physics event carries the trigger's output
bits in its low bits: bit 0 physics, bit 1 beam (prescaled), bit 2 random.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from fpga_model.decision import TRIGGER_MASK
from fpga_model.registers import N_CHANNELS, N_COUNTERS, N_ECAL0, N_ECAL1, TriggerConfig

from ..columns import Columns
from .runner import TRIGGER_BIT_NAMES, emulate_windows

__all__ = ["compare_trigger_bits", "trigger_table", "trigger_channel", "digit_window_rows", "windows_from_sadc",
           "WINDOW_SAMPLES", "PHYSICS_EVENT_TYPE"]

WINDOW_SAMPLES = 32
PHYSICS_EVENT_TYPE = 7
_COUNTER_PLANES = {"S1": 0, "S2": 1, "S3": 2, "V1": 3, "V2": 4}
_CALO_BASE = {"ECAL0": (N_COUNTERS, 6), "ECAL1": (N_COUNTERS + N_ECAL0, 6)}
_HCAL_BASE = N_COUNTERS + N_ECAL0 + N_ECAL1


def trigger_channel(plane_names: list[str] | tuple[str, ...], plane: np.ndarray, x: np.ndarray,
                    y: np.ndarray) -> np.ndarray:
    """Trigger channel (0..112) of each digit, -1 for digits the trigger does not see."""
    lut = _channel_lut(tuple(plane_names))
    m = len(plane_names)
    # planes outside the list (negative: unmapped digits) take the last, empty row; x and y
    # beyond the largest cell index (5) all mean "outside" and share the last column
    p = np.asarray(plane)
    p = np.where((p >= 0) & (p < m), p, m)
    xi = np.clip(np.asarray(x), -1, 6) + 1
    yi = np.clip(np.asarray(y), -1, 6) + 1
    return lut[(p * 8 + xi) * 8 + yi]


@functools.cache
def _channel_lut(plane_names: tuple[str, ...]) -> np.ndarray:
    """Flat table of the trigger channel by (plane, x + 1, y + 1), x and y clipped to -1..6:
    counters take every x and y, calorimeter cells their own."""
    lut = np.full((len(plane_names) + 1, 8, 8), -1, np.int64)
    for p, name in enumerate(plane_names):
        if name in _COUNTER_PLANES:
            lut[p] = _COUNTER_PLANES[name]
        elif name in _CALO_BASE:
            base, ny = _CALO_BASE[name]
            for i in range(6):
                lut[p, i + 1, 1:ny + 1] = base + 6 * i + np.arange(ny)
        elif name.startswith("HCAL") and name[4:].isdigit() and int(name[4:]) < 4:
            for i in range(3):
                lut[p, i + 1, 1:4] = _HCAL_BASE + 9 * int(name[4:]) + 3 * i + np.arange(3)
    lut.setflags(write=False)
    return lut.reshape(-1)


def digit_window_rows(samples: np.ndarray, nsamples: np.ndarray, width: int = WINDOW_SAMPLES,
                      rows: np.ndarray | None = None) -> np.ndarray:
    """Each digit (of ``rows``, an index array, or all) as a trigger-window row of ``width``
    uint16 samples: a digit shorter than ``width`` is extended with its last recorded sample
    (all 0 when it recorded none), longer ones are cut, values clipped to 0..4095."""
    s = np.asarray(samples)
    ns = np.asarray(nsamples)
    if rows is not None:
        s, ns = s[rows, :width], ns[rows]  # one copy: the fancy index
    else:
        s = s[:, :width]
    if s.dtype != np.uint16 or s.shape[1] < width:
        wide = np.zeros((s.shape[0], width), np.uint16)
        wide[:, : s.shape[1]] = np.clip(s, 0, 4095)
        s = wide
    elif rows is None:
        s = np.array(s, order="C")  # the caller's samples stay as they are
    if s.size and int(s.max()) > 4095:
        np.minimum(s, 4095, out=s)
    short = np.flatnonzero(ns < width)
    if short.size:
        last = np.clip(ns[short].astype(np.int64), 0, None)
        take = np.minimum(np.arange(width)[None, :], np.maximum(last[:, None] - 1, 0))
        s[short] = np.take_along_axis(s[short], take, axis=1)
        s[short[last == 0]] = 0
    return s


def windows_from_sadc(n_events: int, event: np.ndarray, channel: np.ndarray, samples: np.ndarray,
                      nsamples: np.ndarray, width: int = WINDOW_SAMPLES) -> np.ndarray:
    """Scatter digits into trigger windows (n_events, 113, width), uint16.

    A channel without a digit stays flat at 0 (the pedestal tracker seeds on it, so it adds
    nothing); a digit is made a window row by :func:`digit_window_rows`. When a channel has
    two digits in one event the last one wins.
    """
    win = np.zeros((n_events, N_CHANNELS, width), dtype=np.uint16)
    keep = (channel >= 0) & (event >= 0) & (event < n_events)
    if not keep.any():
        return win
    rows = digit_window_rows(samples, nsamples, width, rows=np.flatnonzero(keep))
    win[np.asarray(event)[keep], np.asarray(channel)[keep]] = rows
    return win


def trigger_table(path: str | Path, config: TriggerConfig | str | None = None,
                  batch_size: int = 10000) -> Columns:
    """Emulate the trigger on every physics event of a raw file.

    Returns Columns ``run, spill, event, recorded_bits, emulated_bits`` (``event`` is the
    event number in its spill; bits: the low three trigger bits) plus ``decision_word``, ``e_prs``, ``e_ecal``, ``e_hcal``, ``pileup``.
    Needs the raw decoder (``na64reco.open_raw``) and the detector maps (``na64reco.detector``).
    """
    import na64reco as nr

    if not hasattr(nr, "open_raw") or not hasattr(nr, "detector"):
        raise RuntimeError("na64reco trigger needs the raw decoder (nr.open_raw) and the detector "
                           "description (nr.detector); this build has neither")
    parts: list[dict[str, np.ndarray]] = []
    setups: dict[int, object] = {}
    for batch in nr.open_raw(str(path)).batches(batch_size):
        ev = batch.events
        types = np.asarray(ev["type"])
        phys = np.flatnonzero(types == PHYSICS_EVENT_TYPE)
        if phys.size == 0:
            continue
        row_of_event = np.full(types.size, -1, dtype=np.int64)
        row_of_event[phys] = np.arange(phys.size)
        runs = np.asarray(ev["run"]).astype(np.int64)
        sadc = batch.sadc
        digit_event = np.asarray(sadc["event"]).astype(np.int64)
        digit_row = row_of_event[digit_event] if digit_event.size else digit_event
        channel = np.full(digit_event.size, -1, dtype=np.int64)
        for run in np.unique(runs[phys]).tolist():
            if run not in setups:
                setups[run] = nr.detector.load_setup(int(run))
            setup = setups[run]
            in_run = (digit_row >= 0) & (runs[digit_event] == run)
            if not in_run.any():
                continue
            ann = setup.annotate_sadc(sadc)
            names = [getattr(p, "name", p) for p in setup.planes]
            mapped = trigger_channel(names, np.asarray(ann["plane"]).astype(np.int64),
                                      np.asarray(ann["x"]).astype(np.int64), np.asarray(ann["y"]).astype(np.int64))
            channel = np.where(in_run, mapped, channel)
        windows = windows_from_sadc(phys.size, digit_row, channel, np.asarray(sadc["samples"]),
                                    np.asarray(sadc["nsamples"]))
        res = emulate_windows(windows, config)
        parts.append({
            "run": runs[phys].astype(np.uint32),
            "spill": np.asarray(ev["spill"])[phys].astype(np.uint32),
            "event": np.asarray(ev["event_in_run"])[phys].astype(np.uint32),
            "recorded_bits": (np.asarray(ev["trigger_mask"])[phys].astype(np.uint64) & np.uint64(TRIGGER_MASK)).astype(np.uint8),
            "emulated_bits": res["trigger_bits"],
            "decision_word": res["decision_word"],
            "e_prs": res["e_prs"], "e_ecal": res["e_ecal"], "e_hcal": res["e_hcal"],
            "pileup": res["pileup"],
        })
    names = ("run", "spill", "event", "recorded_bits", "emulated_bits", "decision_word", "e_prs",
             "e_ecal", "e_hcal", "pileup")
    dtypes = (np.uint32, np.uint32, np.uint32, np.uint8, np.uint8, np.uint64, np.uint16, np.uint16, np.uint16, bool)
    if not parts:
        return Columns({n: np.zeros(0, d) for n, d in zip(names, dtypes)})
    return Columns({n: np.concatenate([p[n] for p in parts]) for n in names})


def compare_trigger_bits(recorded: np.ndarray, emulated: np.ndarray) -> Columns:
    """Per trigger bit: recorded / emulated counts, both, efficiency and agreement.

    ``efficiency`` = events with the bit both recorded and emulated / events with it recorded
    (NaN when none recorded); ``agreement`` = fraction of events where the bit is equal.
    """
    rec = np.asarray(recorded).astype(np.uint64)
    emu = np.asarray(emulated).astype(np.uint64)
    if rec.shape != emu.shape:
        raise ValueError(f"recorded bits {rec.shape} and emulated bits {emu.shape} differ in shape")
    rows: dict[str, list] = {"bit": [], "name": [], "recorded": [], "emulated": [], "both": [],
                             "efficiency": [], "agreement": []}
    for bit, name in TRIGGER_BIT_NAMES.items():
        r = (rec & np.uint64(bit)) != 0
        e = (emu & np.uint64(bit)) != 0
        both = int(np.count_nonzero(r & e))
        nrec = int(np.count_nonzero(r))
        rows["bit"].append(bit)
        rows["name"].append(name)
        rows["recorded"].append(nrec)
        rows["emulated"].append(int(np.count_nonzero(e)))
        rows["both"].append(both)
        rows["efficiency"].append(both / nrec if nrec else float("nan"))
        rows["agreement"].append(float(np.mean(r == e)) if r.size else float("nan"))
    return Columns({"bit": np.array(rows["bit"], np.uint8), "name": np.array(rows["name"]),
                    "recorded": np.array(rows["recorded"], np.int64), "emulated": np.array(rows["emulated"], np.int64),
                    "both": np.array(rows["both"], np.int64), "efficiency": np.array(rows["efficiency"]),
                    "agreement": np.array(rows["agreement"])})
