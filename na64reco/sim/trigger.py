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

from .cells import KIND_SLICES, KINDS, PLANE_SLICES, plane_index
from .config import SimConfig

__all__ = ["TRIGGER_PHYSICS", "TRIGGER_BEAM", "TRIGGER_RANDOM", "trigger_roles", "trigger_mask"]

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


@lru_cache(maxsize=1)
def _default_registers():
    from ..firmware import load_trigger_config

    return load_trigger_config()


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
