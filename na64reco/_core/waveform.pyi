# Stubs for na64reco._core.waveform (csrc/bindings/waveform_bind.cpp).
from typing import Any

import numpy as np
import numpy.typing as npt

class PulseTemplate:
    """Tabulated pulse shape (natural cubic spline), rescaled to peak 1 at t = 0 ns."""

    def __init__(self, times_ns: npt.ArrayLike, values: npt.ArrayLike) -> None: ...
    def value(self, t_ns: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def derivative(self, t_ns: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    @property
    def times_ns(self) -> npt.NDArray[np.float64]: ...
    @property
    def values(self) -> npt.NDArray[np.float64]: ...
    @property
    def t_min(self) -> float: ...
    @property
    def t_max(self) -> float: ...
    @property
    def peak_shift_ns(self) -> float: ...
    @property
    def peak_value(self) -> float: ...

class WaveformFitter:
    """Batch waveform fitter for windows of a fixed length (see na64reco.WaveformFitter)."""

    def __init__(
        self,
        template: PulseTemplate,
        sampling_ns: float = 12.5,
        nsamples: int = 32,
        noise_rms: float = 2.0,
        noise_cov: npt.ArrayLike | None = None,
        pedestal: str = "fit",
        leading_samples: int = 6,
        saturation_adc: float = 4095.0,
        pileup: bool = True,
        max_pulses: int = 6,
        phase_step_ns: float = 0.5,
        dictionary_step_ns: float = 6.25,
        pre_window_ns: float = 100.0,
        post_window_ns: float = 12.5,
        min_significance: float = 5.0,
        pileup_chi2_sigma: float = 3.0,
        pileup_residual_sigma: float = 3.5,
        pileup_dchi2: float = 25.0,
        trigger_time_ns: float | None = None,
        in_time_window_ns: float = 25.0,
        threads: int = 1,
    ) -> None: ...
    @property
    def nsamples(self) -> int: ...
    @property
    def tau_min(self) -> float: ...
    @property
    def tau_max(self) -> float: ...
    def fit(
        self,
        samples: npt.ArrayLike,
        nsamples: npt.ArrayLike | None = None,
        pedestal: npt.ArrayLike | None = None,
        rows: npt.ArrayLike | None = None,
        hint_times: npt.ArrayLike | None = None,
        hint_offsets: npt.ArrayLike | None = None,
        hint_group: npt.ArrayLike | None = None,
        hint_shift_ns: npt.ArrayLike | None = None,
    ) -> dict[str, dict[str, Any]]: ...
    def fit_seeded(
        self,
        samples: npt.ArrayLike,
        nsamples: npt.ArrayLike | None,
        seed_offsets: npt.ArrayLike,
        seed_times: npt.ArrayLike,
        in_time_ns: npt.ArrayLike,
        in_time_tolerance_ns: float = 3.0,
        fixed_times: bool = False,
        seed_weights: npt.ArrayLike | None = None,
        seed_merge_ns: float = 0.0,
    ) -> dict[str, np.ndarray]: ...
