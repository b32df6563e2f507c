"""The recorded trigger mask of simulated events: the one place the trigger decision is made.

When ``na64reco.firmware`` (the emulation of the FPGA trigger on recorded 32-sample
windows) is importable, its decision is written. Otherwise this module applies the same
logic on the integer samples: beam = S1*S2*S3 above half a MIP; physics = beam, no V1/V2
hit, pre-shower sum above threshold and total ECAL sum below threshold; random = a
Bernoulli draw independent of the event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import PLANE_SLICES, plane_index
from .config import SimConfig

__all__ = ["TRIGGER_PHYSICS", "TRIGGER_BEAM", "TRIGGER_RANDOM", "TriggerThresholds", "trigger_mask"]

TRIGGER_PHYSICS = 1 << 0
TRIGGER_BEAM = 1 << 1
TRIGGER_RANDOM = 1 << 2


@dataclass(frozen=True)
class TriggerThresholds:
    counter_mev: float = 1.0  # beam counters: half of the default 2 MeV MIP
    veto_counter_mev: float = 1.0
    preshower_min_mev: float = 300.0
    ecal_max_mev: float = 80000.0


def _amplitudes(samples: np.ndarray, pedestal: np.ndarray, cells: slice) -> np.ndarray:
    """Pedestal-subtracted maximum per event and cell, in ADC counts."""
    window = samples[:, cells, :]
    return window.max(axis=2).astype(np.float32) - pedestal[None, cells]


def trigger_mask(
    rng: np.random.Generator,
    cfg: SimConfig,
    samples: np.ndarray,
    pedestal: np.ndarray,
    mev_per_adc: np.ndarray,
    thresholds: TriggerThresholds = TriggerThresholds(),
) -> np.ndarray:
    """uint64 trigger mask per event from the recorded samples (n_events, N_CELLS, 32)."""
    n = samples.shape[0]
    mev = {}
    for name in ("S1", "S2", "S3", "V1", "V2", "ECAL0", "ECAL1"):
        sl = PLANE_SLICES[plane_index(name)]
        mev[name] = _amplitudes(samples, pedestal, sl) * mev_per_adc[None, sl]
    beam = (
        (mev["S1"][:, 0] > thresholds.counter_mev)
        & (mev["S2"][:, 0] > thresholds.counter_mev)
        & (mev["S3"][:, 0] > thresholds.counter_mev)
    )
    veto = (mev["V1"][:, 0] > thresholds.veto_counter_mev) | (mev["V2"][:, 0] > thresholds.veto_counter_mev)
    e_ps = mev["ECAL0"].sum(axis=1)
    e_ecal = e_ps + mev["ECAL1"].sum(axis=1)
    physics = beam & ~veto & (e_ps > thresholds.preshower_min_mev) & (e_ecal < thresholds.ecal_max_mev)
    random = rng.random(n) < cfg.trigger_random_probability
    mask = np.zeros(n, dtype=np.uint64)
    mask[physics] |= np.uint64(TRIGGER_PHYSICS)
    mask[beam] |= np.uint64(TRIGGER_BEAM)
    mask[random] |= np.uint64(TRIGGER_RANDOM)
    return mask
