"""The NA64 digital trigger on recorded data: configuration registers and C emulation.

``load_trigger_config(path=None)`` reads a register file (defaults:
``na64reco/data/trigger/default.cfg``); ``emulate(beam, veto, ecal0, ecal1, hcal)`` runs the
C firmware path (``libna64fw.so``, via cffi) on per-event windows and returns per-event
trigger bits, sums and flags. The specification is docs/firmware.md; ``fpga_model`` is the
bit-accurate reference this path equals.
"""

from __future__ import annotations

from fpga_model.registers import ENERGY_LSB_MEV, TriggerConfig

from .compare import compare_trigger_bits, trigger_channel, trigger_table
from .config import default_config_path, load_trigger_config, parse_trigger_config
from .runner import (
    TRIGGER_BIT_NAMES, FirmwareStream, emulate, emulate_windows, trigger_bits_digit_rows, trigger_bits_digits,
    trigger_bits_windows,
)

__all__ = [
    "ENERGY_LSB_MEV",
    "TRIGGER_BIT_NAMES",
    "TriggerConfig",
    "FirmwareStream",
    "compare_trigger_bits",
    "default_config_path",
    "emulate",
    "emulate_windows",
    "load_trigger_config",
    "parse_trigger_config",
    "trigger_channel",
    "trigger_bits_digits",
    "trigger_bits_digit_rows",
    "trigger_bits_windows",
    "trigger_table",
]
