"""Bit-accurate models of the NA64 digital trigger (numpy only, integers only).

``fixed`` implements ap_fixed quantisation and overflow; ``channel``, ``counters``,
``sums`` and ``decision`` hold each stage twice (clock-by-clock stream model and vectorised
block model); ``trigger`` composes them; ``registers`` is the register map. The
specification is docs/firmware.md. Nothing here imports na64reco.
"""

from . import channel, counters, decision, fixed, registers, sums, trigger
from .registers import TriggerConfig
from .trigger import TriggerBlock, TriggerStream, run_windows

__all__ = ["channel", "counters", "decision", "fixed", "registers", "sums", "trigger",
           "TriggerConfig", "TriggerBlock", "TriggerStream", "run_windows"]
