"""Bit flags of the ``status`` column of the reco output (0 = good).

These values are part of the output format: never renumber, only add.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STATUS_BITS", "describe_status"]

DECODE_ERROR = 1 << 0  # the event had at least one decode error (see the accounting)
SATURATED = 1 << 1  # a calorimeter cell reached the ADC overflow code
FIT_BAD = 1 << 2  # a waveform fit flagged a problem (poor chi2, no convergence)
PILEUP = 1 << 3  # energy from pulses outside the in-time window was found
NO_ECAL = 1 << 4  # no ECAL cell above threshold
NO_STRAW_SEGMENT = 1 << 5  # straw hits present but no segment fitted
TRIGGER_MISMATCH = 1 << 6  # emulated trigger bits differ from the recorded ones
STAGE_MISSING = 1 << 7  # a reconstruction stage is not in this build (or switched off): its columns are NaN/-1/0

STATUS_BITS: dict[str, int] = {
    "DECODE_ERROR": DECODE_ERROR,
    "SATURATED": SATURATED,
    "FIT_BAD": FIT_BAD,
    "PILEUP": PILEUP,
    "NO_ECAL": NO_ECAL,
    "NO_STRAW_SEGMENT": NO_STRAW_SEGMENT,
    "TRIGGER_MISMATCH": TRIGGER_MISMATCH,
    "STAGE_MISSING": STAGE_MISSING,
}


def describe_status(status: int) -> list[str]:
    """Names of the bits set in one status value."""
    return [name for name, bit in STATUS_BITS.items() if int(status) & bit]


def status_counts(status: np.ndarray) -> dict[str, int]:
    """How many events have each bit set."""
    s = np.asarray(status, dtype=np.uint32)
    return {name: int(np.count_nonzero(s & bit)) for name, bit in STATUS_BITS.items()}
