"""The trigger stage: the firmware path emulated on the recorded windows."""

from __future__ import annotations

import numpy as np

from ..config import JobConfig
from . import status as st
from .chain import EventState
from .stage_common import SADC_PLANE_NAMES


class TriggerStage:
    """The C firmware path (na64reco.firmware) on each event's recorded windows.

    Digits are placed in the trigger's channel order from their (plane, x, y); windows are
    built and emulated in blocks so memory stays bounded. ``trigger_emulated`` holds the
    emulated output bits; events whose emulated physics or beam bit differs from the recorded
    one (the low bits of the DATE trigger mask) get ``TRIGGER_MISMATCH``.
    """

    name = "trigger"
    BLOCK = 2048

    def __init__(self, config: JobConfig) -> None:
        from ..firmware import load_trigger_config

        self.config = config
        self.registers = load_trigger_config(config["trigger"]["registers_file"] or None)
        self.enabled = bool(config["trigger"]["emulate"])

    def available(self) -> bool:
        return self.enabled

    def __call__(self, state: EventState) -> None:
        from fpga_model.decision import BIT_BEAM, BIT_PHYSICS

        from ..firmware import trigger_bits_windows
        from ..firmware.compare import trigger_channel

        n = state.n
        digits = state.extras.get("digits")
        if n == 0 or digits is None:
            return
        channel = trigger_channel(list(SADC_PLANE_NAMES), digits["plane"].astype(np.int64),
                                   digits["x"].astype(np.int64), digits["y"].astype(np.int64))
        event = digits["event"]
        bits = np.zeros(n, np.uint64)
        for lo in range(0, n, self.BLOCK):
            hi = min(lo + self.BLOCK, n)
            sel = (event >= lo) & (event < hi) & (channel >= 0)
            windows = _trigger_windows(hi - lo, event[sel] - lo, channel[sel], digits["samples"][sel], digits["nsamples"][sel])
            bits[lo:hi] = trigger_bits_windows(windows, self.registers)
        state.columns["trigger_emulated"][:] = bits
        # The random trigger fires from a generator running over the whole spill: a window
        # emulated from reset cannot reproduce it, so only physics and beam bits are compared.
        compared = np.uint64(BIT_PHYSICS | BIT_BEAM)
        recorded = state.columns["trigger_bits"] & compared
        state.flag(st.TRIGGER_MISMATCH, recorded != (bits & compared))


def _trigger_windows(n_events: int, event: np.ndarray, channel: np.ndarray, samples: np.ndarray, nsamples: np.ndarray) -> np.ndarray:
    """(n_events, N_CHANNELS, 32) uint16 trigger windows, as ``firmware.compare.windows_from_sadc``
    builds them (absent channels flat at 0, short digits extended with their last sample)
    but with one row scatter instead of per-sample indexing."""
    from fpga_model.registers import N_CHANNELS

    width = 32
    win = np.zeros((n_events * N_CHANNELS, width), np.uint16)
    if not event.size:
        return win.reshape(n_events, N_CHANNELS, width)
    s = samples[:, :width]
    if s.shape[1] < width:
        s = np.pad(s, ((0, 0), (0, width - s.shape[1])))
    ns = nsamples.astype(np.int64)
    short = ns < width
    if np.any(short):
        s = s.copy()
        cols = np.arange(width)
        rows = np.flatnonzero(short)
        take = np.minimum(cols[None, :], np.maximum(ns[rows, None] - 1, 0))
        s[rows] = np.take_along_axis(s[rows], take, axis=1)
        s[rows[ns[rows] == 0]] = 0
    win[event * N_CHANNELS + channel] = np.minimum(s, 4095)
    return win.reshape(n_events, N_CHANNELS, width)
