"""Waveform reconstruction: pulse templates, the batch fitter with pile-up resolution, and
the builder of measured templates.

    tpl = nr.waveform.load_template("ecal")
    fitter = nr.WaveformFitter(tpl, sampling_ns=12.5, noise_rms=2.0, pileup=True)
    res = fitter.fit(samples)           # (n, 32) uint16 or float
    res.amplitude, res.time_ns, res.flags, res.pulses.amplitude, ...

The algorithm and the quality flags are described in docs/waveform.md.
"""

from __future__ import annotations

from .fitter import FLAGS, FitResult, TimeHints, WaveformFitter, describe_flags
from .templates import PulseTemplate, TEMPLATE_KINDS, load_template
from .template_builder import build_template
from .simulate import cramer_rao_bound, simulate_windows

__all__ = [
    "FLAGS",
    "FitResult",
    "PulseTemplate",
    "TEMPLATE_KINDS",
    "TimeHints",
    "WaveformFitter",
    "build_template",
    "cramer_rao_bound",
    "simulate_windows",
    "describe_flags",
    "load_template",
]
