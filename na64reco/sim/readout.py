"""What the simulator needs from the detector description, in its canonical cell order.

``Readout.from_setup(setup)`` takes ``na64reco.detector.load_setup(run)``: SADC channel
addresses and calibration per cell (cells ordered as ``na64reco.sim.cells``), the
transverse geometry for the showers and the straw planes with their F1 addresses. The
amplitudes are generated so that the reconstruction's ``amplitude * mev_per_adc * LED``
gives back the true energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cells import CELL_PLANE, CELL_X, CELL_Y, N_CELLS, PLANES
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
    calibration: Any = None  # na64reco.detector Calibration, for the per-spill LED factors
    calibration_cell: np.ndarray | None = None  # (N_CELLS,) cell number in the calibration

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

    @classmethod
    def from_setup(cls, setup) -> "Readout":
        """Build from ``na64reco.detector.load_setup(run)`` (maps, geometry, calibration)."""
        planes = tuple(setup.planes)
        expected = tuple(p[0] for p in PLANES)
        if planes != expected:
            raise ValueError(f"setup planes are {list(planes)}; the simulator expects {list(expected)}")
        for p, (name, nx, ny, _) in enumerate(PLANES):
            if tuple(setup.plane_shape(name)) != (nx, ny):
                raise ValueError(f"setup plane {name} is {setup.plane_shape(name)}; the simulator expects ({nx}, {ny})")
        addr = setup.sadc_address(CELL_PLANE, CELL_X, CELL_Y)
        missing = np.flatnonzero(np.asarray(addr.source_id) < 0)
        if missing.size:
            c = int(missing[0])
            raise ValueError(
                f"run {setup.run}: cell {PLANES[CELL_PLANE[c]][0]} ({CELL_X[c]}, {CELL_Y[c]}) has no SADC channel in the map"
            )
        cal_cell = setup.cell_index(CELL_PLANE, CELL_X, CELL_Y)
        mev = np.asarray(setup.calibration.mev_per_adc, dtype=np.float64)[cal_cell]

        g = setup.geometry.sadc_planes
        ecal = setup.plane_index("ECAL0")
        hcal = setup.plane_index("HCAL0")
        geometry = Geometry(
            ecal_pitch_mm=float(g.pitch_mm[ecal]),
            ecal_nx=int(g.nx[ecal]),
            ecal_ny=int(g.ny[ecal]),
            ecal_centre_mm=(float(g.x_mm[ecal]), float(g.y_mm[ecal])),
            hcal_pitch_mm=float(g.pitch_mm[hcal]),
            hcal_centre_mm=(float(g.x_mm[hcal]), float(g.y_mm[hcal])),
        )

        st = setup.geometry.straw_planes
        n_planes = len(setup.straw_planes)
        layers = np.asarray(st.layers, dtype=np.int64)
        tubes = np.asarray(st.tubes, dtype=np.int64)
        if np.any(layers != layers[0]) or np.any(tubes != tubes[0]):
            raise ValueError("the simulator needs the same number of layers and tubes in every straw plane")
        n_layers, n_tubes = int(layers[0]), int(tubes[0])
        pl, la, tu = np.meshgrid(np.arange(n_planes), np.arange(n_layers), np.arange(n_tubes), indexing="ij")
        saddr = setup.straw_address(pl.ravel(), la.ravel(), tu.ravel())
        shape = (n_planes, n_layers, n_tubes)
        if np.any(np.asarray(saddr.source_id) < 0):
            bad = int(np.flatnonzero(np.asarray(saddr.source_id) < 0)[0])
            raise ValueError(
                f"run {setup.run}: straw plane {setup.straw_planes[pl.ravel()[bad]]} layer {la.ravel()[bad]} "
                f"tube {tu.ravel()[bad]} has no F1 channel in the map"
            )
        u0, z0 = setup.geometry.wire_position(pl[:, :, 0], la[:, :, 0], 0)
        straws = StrawGeometry(
            names=tuple(setup.straw_planes),
            plane_number=np.arange(n_planes),
            z_mm=np.asarray(z0, dtype=np.float64),
            axis=(np.asarray(st.measures) == "y").astype(np.int8),
            first_tube_mm=np.asarray(u0, dtype=np.float64),
            pitch_mm=np.asarray(st.pitch_mm, dtype=np.float64),
            n_tubes=n_tubes,
            tube_radius_mm=float(np.min(st.tube_radius_mm)),
            source_id=np.asarray(saddr.source_id, dtype=np.int64).reshape(shape),
            port=np.asarray(saddr.port, dtype=np.int64).reshape(shape),
            chip=np.asarray(saddr.chip, dtype=np.int64).reshape(shape),
            channel=np.asarray(saddr.channel, dtype=np.int64).reshape(shape),
            z_ref_mm=0.0,
        )
        return cls(
            source_id=np.asarray(addr.source_id, dtype=np.int64),
            port=np.asarray(addr.port, dtype=np.int64),
            chip=np.asarray(addr.chip, dtype=np.int64),
            channel=np.asarray(addr.channel, dtype=np.int64),
            mev_per_adc=mev,
            geometry=geometry,
            straws=straws,
            calibration=setup.calibration,
            calibration_cell=cal_cell,
        )

    def led_factors(self, spill: np.ndarray) -> np.ndarray:
        """(len(spill), N_CELLS) LED factors the reconstruction multiplies amplitudes by."""
        spill = np.asarray(spill, dtype=np.int64)
        if self.calibration is None:
            return np.ones((spill.size, N_CELLS))
        return self.calibration.led_correction(spill[:, None], self.calibration_cell[None, :]).reshape(
            spill.size, N_CELLS
        )

    @property
    def chip_group(self) -> np.ndarray:
        """Dense index of the ADC chip (source, port, chip) of every cell: the common-mode group."""
        key = (self.source_id.astype(np.int64) << 16) | (self.port.astype(np.int64) << 8) | self.chip
        return np.unique(key, return_inverse=True)[1].reshape(-1)

    @property
    def sources(self) -> np.ndarray:
        return np.unique(np.concatenate([self.source_id.ravel(), self.straws.source_id.ravel()]))
