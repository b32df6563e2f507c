"""The recorded trigger mask of simulated events: the one place the trigger decision is made.

The physics and beam bits are those of the trigger firmware (``na64reco.firmware.emulate``,
the C firmware path that equals the bit-accurate ``fpga_model``) run on each event's
recorded 32-sample windows of the trigger channels. The random bit stands for a pulser that
does not look at the detector: a Bernoulli draw with ``trigger_random_probability``, ORed
with the firmware's own random request (off in the default registers).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .cells import KIND_SLICES, KINDS, N_CELLS, PLANE_SLICES, plane_index
from .config import SimConfig

__all__ = [
    "TRIGGER_PHYSICS",
    "TRIGGER_BEAM",
    "TRIGGER_RANDOM",
    "FIRMWARE_ROW_OF_CELL",
    "trigger_roles",
    "trigger_mask",
    "trigger_mask_windows",
]

TRIGGER_PHYSICS = 1 << 0
TRIGGER_BEAM = 1 << 1
TRIGGER_RANDOM = 1 << 2


def _cells(*names: str) -> np.ndarray:
    return np.concatenate([np.arange(PLANE_SLICES[plane_index(n)].start, PLANE_SLICES[plane_index(n)].stop) for n in names])


_BEAM = _cells("S1", "S2", "S3")
_VETO = _cells("V1", "V2")


def trigger_roles(samples: np.ndarray) -> tuple[np.ndarray, ...]:
    """(beam, veto, ecal0, ecal1, hcal) windows in the firmware's channel order.

    The simulator's cell order already is the firmware's inside each role: ECAL cells
    ``6 * x + y``, HCAL cells ``9 * module + 3 * x + y``.
    """
    return (
        samples[:, _BEAM, :],
        samples[:, _VETO, :],
        samples[:, PLANE_SLICES[plane_index("ECAL0")], :],
        samples[:, PLANE_SLICES[plane_index("ECAL1")], :],
        samples[:, KIND_SLICES[KINDS.index("hcal")], :],
    )


# the firmware's channel order (beam, veto, ecal0, ecal1, hcal) as cell numbers
_FIRMWARE_ORDER = np.concatenate(
    [
        _BEAM,
        _VETO,
        np.arange(PLANE_SLICES[plane_index("ECAL0")].start, PLANE_SLICES[plane_index("ECAL0")].stop),
        np.arange(PLANE_SLICES[plane_index("ECAL1")].start, PLANE_SLICES[plane_index("ECAL1")].stop),
        np.arange(KIND_SLICES[KINDS.index("hcal")].start, KIND_SLICES[KINDS.index("hcal")].stop),
    ]
)

# row of every cell in the firmware's window array, -1 for cells the trigger does not see:
# lets the waveform kernel write the trigger windows directly (no gather afterwards)
FIRMWARE_ROW_OF_CELL = np.full(N_CELLS, -1, dtype=np.int32)
FIRMWARE_ROW_OF_CELL[_FIRMWARE_ORDER] = np.arange(_FIRMWARE_ORDER.size, dtype=np.int32)
N_FIRMWARE_ROWS = int(_FIRMWARE_ORDER.size)


@lru_cache(maxsize=1)
def _default_registers():
    from ..firmware import load_trigger_config

    return load_trigger_config()


@lru_cache(maxsize=1)
def _default_c_registers():
    from ..firmware.runner import to_c_config

    return to_c_config(_default_registers())


def trigger_mask(rng: np.random.Generator, cfg: SimConfig, samples: np.ndarray, trigger_config=None) -> np.ndarray:
    """uint64 trigger mask per event from the recorded samples (n_events, N_CELLS, 32).

    Same decision as ``firmware.emulate(*trigger_roles(samples))``, with one gather instead
    of five role arrays.
    """
    from ..firmware import emulate_windows

    if trigger_config is None:
        trigger_config = _default_registers()
    result = emulate_windows(samples[:, _FIRMWARE_ORDER, :], trigger_config)
    mask = np.asarray(result["trigger_bits"]).astype(np.uint64)
    random = rng.random(samples.shape[0]) < cfg.trigger_random_probability
    mask[random] |= np.uint64(TRIGGER_RANDOM)
    return mask


def trigger_mask_windows(rng: np.random.Generator, cfg: SimConfig, windows: np.ndarray) -> np.ndarray:
    """``trigger_mask`` on windows already in the firmware's channel order (n_events, 113, W)
    with the default registers, as the waveform kernel writes them (``FIRMWARE_ROW_OF_CELL``).

    The kernel clamps every sample to 0..4095, so the range scan of ``emulate_windows`` is
    skipped and the C pipeline is called directly with registers converted once per process,
    through its trigger-bits-only entry (no HCAL channels, no pile-up sum: only the bits are kept).
    """
    from ..firmware._lib import library

    if windows.dtype != np.uint16 or windows.ndim != 3 or windows.shape[1] != N_FIRMWARE_ROWS:
        raise ValueError(
            f"trigger windows: expected uint16 (n_events, {N_FIRMWARE_ROWS}, n_samples), "
            f"got {windows.dtype} {windows.shape}"
        )
    windows = np.ascontiguousarray(windows)
    n, width = windows.shape[0], windows.shape[2]
    bits = np.zeros(n, np.uint8)
    if n:
        if width == 0:
            raise ValueError("trigger windows: windows must hold at least one sample")
        ffi, lib = library()
        rc = int(lib.na64fw_trigger_bits_windows(
            _default_c_registers(), ffi.from_buffer("uint16_t[]", windows), n, width, ffi.from_buffer("uint8_t[]", bits)
        ))
        if rc != 0:
            raise RuntimeError(f"na64fw_trigger_bits_windows failed with status {rc}")
    mask = bits.astype(np.uint64)
    random = rng.random(n) < cfg.trigger_random_probability
    mask[random] |= np.uint64(TRIGGER_RANDOM)
    return mask
