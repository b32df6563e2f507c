"""What the simulator needs from the detector description, in its canonical cell order.

``Readout.from_setup(setup)`` takes ``na64reco.detector.load_setup(run)``: SADC channel
addresses and calibration per cell (cells ordered as ``na64reco.sim.cells``), the
transverse geometry for the showers and the straw planes with their F1 addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import N_CELLS
from .showers import Geometry
from .straws import StrawGeometry

__all__ = ["Readout"]


@dataclass(frozen=True)
class Readout:
    source_id: np.ndarray  # (N_CELLS,) SADC address of each cell
    port: np.ndarray
    chip: np.ndarray
    channel: np.ndarray
    mev_per_adc: np.ndarray  # (N_CELLS,) calibration the reconstruction loads
    geometry: Geometry
    straws: StrawGeometry

    def __post_init__(self) -> None:
        for name in ("source_id", "port", "chip", "channel", "mev_per_adc"):
            arr = getattr(self, name)
            if arr.shape != (N_CELLS,):
                raise ValueError(f"Readout.{name}: expected shape ({N_CELLS},), got {arr.shape}")
        if np.any(~np.isfinite(self.mev_per_adc)) or np.any(self.mev_per_adc <= 0):
            bad = int(np.flatnonzero(~(self.mev_per_adc > 0))[0])
            raise ValueError(f"Readout.mev_per_adc: cell {bad} has {self.mev_per_adc[bad]}, expected > 0")
        address = np.stack([self.source_id, self.port, self.chip, self.channel], axis=1)
        if np.unique(address, axis=0).shape[0] != N_CELLS:
            raise ValueError("Readout: two cells share one SADC address (source, port, chip, channel)")

    @property
    def chip_group(self) -> np.ndarray:
        """Dense index of the ADC chip (source, port, chip) of every cell: the common-mode group."""
        key = (self.source_id.astype(np.int64) << 16) | (self.port.astype(np.int64) << 8) | self.chip
        return np.unique(key, return_inverse=True)[1].reshape(-1)

    @property
    def sources(self) -> np.ndarray:
        return np.unique(np.concatenate([self.source_id.ravel(), self.straws.source_id.ravel()]))
