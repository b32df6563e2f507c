"""Per-event calorimeter status bits and the energy unit of the event variables."""

from __future__ import annotations

# calo_status bits: an absent detector flags the event, it never raises.
STATUS_ECAL_MISSING = 1 << 0
STATUS_HCAL_MISSING = 1 << 1
STATUS_VETO_MISSING = 1 << 2
STATUS_SRD_MISSING = 1 << 3
STATUS_NO_MASTER_TIME = 1 << 4
STATUS_FIT_FAILED = 1 << 5  # a calorimeter waveform whose fit failed: its energy is unknown
STATUS_NAMES = {
    STATUS_ECAL_MISSING: "ecal_missing",
    STATUS_HCAL_MISSING: "hcal_missing",
    STATUS_VETO_MISSING: "veto_missing",
    STATUS_SRD_MISSING: "srd_missing",
    STATUS_NO_MASTER_TIME: "no_master_time",
    STATUS_FIT_FAILED: "fit_failed",
}

MEV_PER_GEV = 1000.0
