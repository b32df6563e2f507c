"""Per-detector waveform-fitter options that the reconstruction passes (pipeline and benchmarks).

``pre_window_ns = 0``: the fitter's dictionary may otherwise hang pulses up to 100 ns before
the first sample on the tail of an earlier beam particle. Such a pulse is seen only through
its tail, so its amplitude is ill-constrained (fits of tens of thousands of ADC counts were
seen on simulated 3 MHz runs) and the search for the pulses inside the window then stops
short: in-time pulses were lost or merged with a pile-up pulse 20 ns away. With the earliest
pulse at the first sample, the tail is described by a pulse there (its shape over the window
differs little), and on simulated 3 MHz signal runs (benchmarks/diag_signal_loss.py) the ECAL
waveforms whose in-time amplitude is off by more than 10% fell from 22% to 10%, those with
chi2/ndf > 5 from 32% to 2%; without pile-up nothing changes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIT_OPTIONS", "fit_options"]

_COMMON: dict[str, Any] = {"pre_window_ns": 0.0}

#: detector kind (template name) -> WaveformFitter keyword options
FIT_OPTIONS: dict[str, dict[str, Any]] = {kind: dict(_COMMON) for kind in ("ecal", "hcal", "veto", "srd", "counter")}
# The SRD's in-time pulse peaks at the counters' nominal time (CaloConfig.nominal_master_ns,
# 127.5 ns) plus the SRD's time_mean (-2 ns, data/calo/calibration.txt), within the trigger
# phase jitter (+-6.25 ns) and a margin: a waveform without a pulse there is flagged
# out_of_window, which makes it a suspect (fit_bounds.SUSPECT_FLAGS) re-measured at the
# event's own expected time (CaloConfig.refit_templates).
FIT_OPTIONS["srd"].update(trigger_time_ns=125.5, in_time_window_ns=8.0)


def fit_options(kind: str) -> dict[str, Any]:
    """A copy of the fitter options of one detector kind (empty for an unknown kind)."""
    return dict(FIT_OPTIONS.get(kind, {}))
