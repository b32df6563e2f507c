"""The trigger stage: the firmware path emulated on the recorded windows."""

from __future__ import annotations

import numpy as np

from ..config import JobConfig
from . import status as st
from .chain import EventState
from .stage_common import SADC_PLANE_NAMES


class TriggerStage:
    """The C firmware path (na64reco.firmware) on each event's recorded windows.

    Digits are placed in the trigger's channel order from their (plane, x, y) and handed to
    the firmware's digit entry, which builds each event's window itself. ``trigger_emulated``
    holds the emulated output bits; events whose emulated physics or beam bit differs from the
    recorded one (the low bits of the DATE trigger mask) get ``TRIGGER_MISMATCH``.
    """

    name = "trigger"
    EVENTS_PER_BLOCK = 512

    def __init__(self, config: JobConfig) -> None:
        from ..firmware import load_trigger_config

        self.config = config
        self.registers = load_trigger_config(config["trigger"]["registers_file"] or None)
        self.enabled = bool(config["trigger"]["emulate"])

    def available(self) -> bool:
        return self.enabled

    def __call__(self, state: EventState) -> None:
        from fpga_model.decision import BIT_BEAM, BIT_PHYSICS

        from ..firmware import trigger_bits_digit_rows, trigger_bits_digits
        from ..firmware.compare import WINDOW_SAMPLES, digit_window_rows, trigger_channel

        n = state.n
        digits = state.extras.get("digits")
        if n == 0 or digits is None:
            return
        channel = trigger_channel(SADC_PLANE_NAMES, digits["plane"], digits["x"], digits["y"])
        seen = np.flatnonzero(channel >= 0)
        # every digit is usually a trigger channel's: no gathered copy of the event column then
        event = np.asarray(digits["event"]) if seen.size == channel.size else digits["event"][seen]
        if event.size > 1 and np.any(event[1:] < event[:-1]):
            seen = seen[np.argsort(event, kind="stable")]  # the later digit of a channel still wins
            event = digits["event"][seen]
        first_digit = np.searchsorted(event, np.arange(n + 1))
        bits = np.zeros(n, np.uint64)
        # A block of events at a time: the window rows of a whole batch (~7 KB an event) would
        # be a fresh allocation of tens of MB per batch, and faulting its pages in cost more
        # than making the rows; a block's rows stay in the cache and their memory is reused.
        samples = np.asarray(digits["samples"])
        nsamples = np.asarray(digits["nsamples"])
        in_place = (samples.dtype == np.uint16 and samples.ndim == 2 and samples.shape[1] >= WINDOW_SAMPLES
                    and samples.flags.c_contiguous)
        for e0 in range(0, n, self.EVENTS_PER_BLOCK):
            e1 = min(n, e0 + self.EVENTS_PER_BLOCK)
            lo, hi = int(first_digit[e0]), int(first_digit[e1])
            first = first_digit[e0 : e1 + 1] - lo
            picked = seen[lo:hi]
            # Full windows of 12-bit samples are read where they are (the common case); short
            # digits are extended and out-of-range samples clipped in copies first.
            if in_place and picked.size and int(nsamples[picked].min()) >= WINDOW_SAMPLES:
                try:
                    bits[e0:e1] = trigger_bits_digit_rows(first, channel[picked], samples, picked, WINDOW_SAMPLES,
                                                          self.registers)
                    continue
                except ValueError:
                    pass  # a sample beyond 12 bits: the copies clip it
            rows = digit_window_rows(samples, nsamples, rows=picked)
            bits[e0:e1] = trigger_bits_digits(first, channel[picked], rows, self.registers)
        state.columns["trigger_emulated"][:] = bits
        # The random trigger fires from a generator running over the whole spill: a window
        # emulated from reset cannot reproduce it, so only physics and beam bits are compared.
        compared = np.uint64(BIT_PHYSICS | BIT_BEAM)
        recorded = state.columns["trigger_bits"] & compared
        state.flag(st.TRIGGER_MISMATCH, recorded != (bits & compared))
