"""Calorimeter reconstruction: calibrated cells, ECAL clusters, event variables.

``reconstruct_calo(pulses, n_events, calibration)`` goes from fitted pulses to one row of
variables per event (GeV, mm) and a cluster table; see docs/reconstruction.md.
"""

from __future__ import annotations

from .._core.calo import CaloLayout as CoreLayout
from .._core.calo import ClusterConfig, ShowerProfile, veto_module_energy
from .calibration import CalibrationError, CaloCalibration, calibration_from_setup, load_calibration
from .fit_bounds import amplitude_upper_bound, channel_pedestal, fixed_time_amplitude, suspect_table, suspect_waveforms, template_peak_floor
from .layout import DEFAULT_PLANES, CaloLayout
from .reconstruct import (
    STATUS_ECAL_MISSING,
    STATUS_FIT_FAILED,
    STATUS_HCAL_MISSING,
    STATUS_NAMES,
    STATUS_NO_MASTER_TIME,
    STATUS_SRD_MISSING,
    STATUS_VETO_MISSING,
    CaloConfig,
    CaloResult,
    failed_fits,
    plane_presence,
    pulse_table,
    pulses_to_csr,
    reconstruct_calo,
)

__all__ = [
    "CaloCalibration",
    "CaloConfig",
    "CaloLayout",
    "CaloResult",
    "CalibrationError",
    "ClusterConfig",
    "CoreLayout",
    "DEFAULT_PLANES",
    "STATUS_ECAL_MISSING",
    "STATUS_FIT_FAILED",
    "STATUS_HCAL_MISSING",
    "STATUS_NAMES",
    "STATUS_NO_MASTER_TIME",
    "STATUS_SRD_MISSING",
    "STATUS_VETO_MISSING",
    "amplitude_upper_bound",
    "channel_pedestal",
    "fixed_time_amplitude",
    "suspect_table",
    "suspect_waveforms",
    "template_peak_floor",
    "ShowerProfile",
    "calibration_from_setup",
    "failed_fits",
    "load_calibration",
    "plane_presence",
    "pulse_table",
    "pulses_to_csr",
    "reconstruct_calo",
    "veto_module_energy",
]
