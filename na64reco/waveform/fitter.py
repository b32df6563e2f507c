"""The batch waveform fitter (a thin layer over na64reco._core.waveform.WaveformFitter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core import waveform as _core
from ..columns import Columns
from .templates import PulseTemplate

__all__ = ["FLAGS", "FitResult", "TimeHints", "WaveformFitter", "describe_flags"]

#: Per-waveform quality flags (bit values of ``FitResult.flags``).
FLAGS = {
    "saturated": 1 << 0,
    "pileup": 1 << 1,
    "fit_failed": 1 << 2,
    "out_of_window": 1 << 3,
    "no_pulse": 1 << 4,
    "negative": 1 << 5,
    "pedestal_fitted": 1 << 6,
    "masked_samples": 1 << 7,
    "hinted": 1 << 8,
}


def describe_flags(value: int) -> list[str]:
    """Names of the flags set in one ``flags`` value."""
    return [name for name, bit in FLAGS.items() if int(value) & bit]


@dataclass(frozen=True)
class TimeHints:
    """Pulse times known in advance for some of a batch's waveforms, e.g. the times another
    channel of the same detector saw the event's particles at.

    Fitted waveform ``i`` is offered ``times[offsets[g]:offsets[g + 1]] + shift_ns[i]`` with
    ``g = group[i]`` (``-1``: no hints), in time order (ns from the first sample). The fit
    measures the amplitudes at those times and keeps them when the pile-up prefilter finds
    nothing suspicious (no chi2 excess, no residual bump; flag ``hinted``); otherwise, and
    where a time holds no significant pulse, it fits the window as without hints.
    """

    times: Any
    offsets: Any
    group: Any
    shift_ns: Any = 0.0

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(times, offsets, group, shift_ns) as the compiled fitter takes them, for n waveforms."""
        shift = np.asarray(self.shift_ns, dtype=np.float64)
        if shift.ndim == 0:
            shift = np.full(n, float(shift))
        return (np.ascontiguousarray(self.times, dtype=np.float64), np.ascontiguousarray(self.offsets, dtype=np.int64),
                np.ascontiguousarray(self.group, dtype=np.int64), np.ascontiguousarray(shift))


class FitResult:
    """Outcome of ``WaveformFitter.fit``.

    ``waves`` holds one row per input waveform (its main / in-time pulse): ``amplitude,
    time_ns, pedestal, chi2, npulses, flags, amplitude_err, time_err, ndf, pedestal_even,
    pedestal_odd, pileup_amplitude``; these are also attributes of the result. ``pulses``
    holds one row per significant pulse: ``wave, amplitude, time_ns, amplitude_err,
    time_err, in_time``.
    """

    __slots__ = ("waves", "pulses")

    def __init__(self, waves: Columns, pulses: Columns) -> None:
        self.waves = waves
        self.pulses = pulses

    def __getattr__(self, key: str) -> np.ndarray:
        if key in ("waves", "pulses"):
            raise AttributeError(key)
        try:
            return self.waves[key]
        except KeyError:
            raise AttributeError(f"no column {key!r}; wave columns are {', '.join(self.waves)}") from None

    def __len__(self) -> int:
        return self.waves.nrows

    def __repr__(self) -> str:
        return f"FitResult({self.waves.nrows} waveforms, {self.pulses.nrows} pulses)"


_PEDESTAL_MODES = ("fit", "leading", "fixed")


def _recorded_counts(nsamples: Any, n: int, width: int) -> np.ndarray | None:
    """Per-row recorded sample counts as the compiled fitter takes them (None: all)."""
    if nsamples is None:
        return None
    rec = np.asarray(nsamples)
    if rec.shape != (n,):
        raise ValueError(f"nsamples must have shape ({n},), got {rec.shape}")
    return np.clip(rec, 0, width).astype(np.int32)


class WaveformFitter:
    """Fits pulses of one template in windows of samples.

    Parameters (all keyword except the template):

    - ``sampling_ns`` (12.5), ``noise_rms`` (2.0 ADC, white noise) or ``noise_cov`` (W x W
      covariance in ADC^2, fixes the window length W).
    - ``pedestal``: ``"fit"`` (default; even and odd pedestals fitted jointly with the pulses),
      ``"leading"`` (from the first ``leading_samples`` samples, even and odd separately,
      falling back to the joint fit when those samples are disturbed) or ``"fixed"`` (values
      given to ``fit``).
    - ``pileup`` (True): resolve overlapping pulses; ``max_pulses`` (6);
      ``pileup_dchi2`` (25): chi2 gain an extra pulse must bring.
    - ``trigger_time_ns`` (None) and ``in_time_window_ns`` (25): the expected in-time pulse.
    - ``saturation_adc`` (4095): samples at or above are masked.
    - ``threads`` (1; 0 = all cores): the batch is split over std::threads.
    - expert: ``phase_step_ns``, ``dictionary_step_ns``, ``pre_window_ns``, ``post_window_ns``,
      ``min_significance``, ``pileup_chi2_sigma``, ``pileup_residual_sigma``.
    """

    def __init__(self, template: PulseTemplate, **options: Any) -> None:
        if not isinstance(template, PulseTemplate):
            raise TypeError(f"template must be a PulseTemplate, got {type(template).__name__}")
        pedestal = options.get("pedestal", "fit")
        if pedestal not in _PEDESTAL_MODES:
            raise ValueError(f"pedestal must be one of {_PEDESTAL_MODES}, got {pedestal!r}")
        if "nsamples" in options:
            raise TypeError("nsamples is taken from the shape of the samples given to fit()")
        self.template = template
        self.options = dict(options)
        self._cores: dict[int, _core.WaveformFitter] = {}
        cov = options.get("noise_cov")
        # Build the common window now so that bad options fail at construction.
        self._core(np.asarray(cov).shape[0] if cov is not None else 32)

    def _core(self, width: int) -> _core.WaveformFitter:
        core = self._cores.get(width)
        if core is None:
            core = _core.WaveformFitter(self.template, nsamples=width, **self.options)
            self._cores[width] = core
        return core

    def fit(
        self,
        samples: Any,
        nsamples: Any = None,
        pedestal: Any = None,
        rows: Any = None,
        hints: TimeHints | None = None,
    ) -> FitResult:
        """Fit every row of ``samples`` ((n, W) or (W,), uint16 or float).

        ``nsamples``: optional per-row count of recorded samples (the rest is ignored), e.g.
        ``batch.sadc.nsamples``. ``pedestal``: per-waveform pedestals for ``pedestal="fixed"``
        (scalar, (n,) or (n, 2) even/odd). ``rows``: fit only ``samples[rows]``, read where
        they lie (no gathered copy of a large table); ``nsamples`` then has one entry per row of
        ``samples`` and the results one per entry of ``rows``. ``hints``: pulse times known in
        advance (:class:`TimeHints`, one group and shift per fitted waveform).
        """
        arr = np.asarray(samples)
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        if arr.ndim != 2:
            raise ValueError(f"samples must have shape (n, W), got {arr.shape}")
        if arr.dtype.kind not in "uif":
            raise ValueError(f"samples must be integers or floats, got dtype {arr.dtype}")
        if arr.dtype != np.uint16 and arr.dtype != np.float32:
            arr = arr.astype(np.float64, copy=False)
        n, width = arr.shape
        index = None
        if rows is not None:
            index = np.asarray(rows)
            if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
                raise ValueError(f"rows must be a 1-d array of row indices, got shape {index.shape} and dtype {index.dtype}")
            index = index.astype(np.int64, copy=False)
            if nsamples is not None:
                recorded = np.asarray(nsamples)
                if recorded.shape != (n,):
                    raise ValueError(f"nsamples must have shape ({n},) (one count per row of samples), got {recorded.shape}")
                if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
                    bad = int(np.flatnonzero((index < 0) | (index >= n))[0])
                    raise ValueError(f"rows[{bad}] = {int(index[bad])} is outside the {n} rows of samples")
                nsamples = recorded[index]
            n = index.size
        ped = None
        if self.options.get("pedestal", "fit") == "fixed":
            if pedestal is None:
                raise ValueError("pedestal='fixed' needs pedestal values in fit(..., pedestal=...)")
            p = np.asarray(pedestal, dtype=np.float64)
            if p.ndim == 0:
                p = np.full((n, 2), float(p))
            elif p.shape == (n,):
                p = np.repeat(p[:, None], 2, axis=1)
            elif p.shape != (n, 2):
                raise ValueError(f"pedestal values must be a scalar, ({n},) or ({n}, 2), got shape {p.shape}")
            ped = np.ascontiguousarray(p)
        elif pedestal is not None:
            raise ValueError("pedestal values are only used with pedestal='fixed'")
        rec = _recorded_counts(nsamples, n, width)
        hint_arrays = hints.arrays(n) if hints is not None else (None, None, None, None)
        raw = self._core(width).fit(np.ascontiguousarray(arr), rec, ped, index, *hint_arrays)
        return FitResult(Columns(raw["waves"]), Columns(raw["pulses"]))

    def fit_seeded(
        self,
        samples: Any,
        seed_times: Any,
        seed_offsets: Any,
        in_time_ns: Any,
        nsamples: Any = None,
        in_time_tolerance_ns: float = 3.0,
        fixed_times: bool = False,
        seed_weights: Any = None,
        seed_merge_ns: float = 0.0,
    ) -> Columns:
        """Fit every row of ``samples`` (n, W) starting from pulse times known in advance, e.g.
        the times other channels of the same detector saw the event's particles at.

        Row i starts with a pulse at ``in_time_ns[i]`` (NaN: none) and at each of
        ``seed_times[seed_offsets[i]:seed_offsets[i+1]]`` not within ``seed_merge_ns`` (0: a
        quarter sample) of a seed already taken, heaviest ``seed_weights`` first (e.g. the
        seeding pulses' amplitudes: larger pulses are timed better); peak times in ns from
        the first sample, ``seed_offsets`` has n + 1 entries from 0 to len(seed_times). At
        most ``max_pulses`` seeds, those nearest the in-time one. Each seed's amplitude and time are refined (pulses that fade away are dropped,
        pulses that meet are merged, seeds the samples do not confirm are dropped) and pulses
        no seed announced are added from the residual. ``fixed_times``: the amplitudes only,
        at the seed times as given (pulses other than the in-time one kept non-negative): for
        small pulses next to others, whose times the samples fix worse than the seeds.
        Samples at or above the saturation level are left out, as in ``fit``. Pedestals are
        always fitted.

        Columns per row: ``amplitude``, ``amplitude_err``, ``time_ns`` of the pulse within
        ``in_time_tolerance_ns`` of ``in_time_ns[i]`` (when none is left: the amplitude fitted
        at ``in_time_ns[i]`` with the other pulses, ``time_ns`` = that time; NaN only when that
        fails), ``chi2``, ``ndf``, ``npulses``, ``ok`` (the fit converged),
        ``clip_consistent`` (the model reaches the saturation level, within 5 noise rms, at
        every clipped sample) and ``nearest_other_ns`` (from the in-time time to the nearest
        other pulse of the final model, inf when none: pulses closer than a sample and a half
        share their samples, and with clipped peaks can be split wrongly by a fit that still
        describes the samples).
        """
        arr = np.asarray(samples, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"samples must have shape (n, W), got {arr.shape}")
        n, width = arr.shape
        rec = _recorded_counts(nsamples, n, width)
        raw = self._core(width).fit_seeded(
            np.ascontiguousarray(arr), rec, np.asarray(seed_offsets, dtype=np.int64), np.asarray(seed_times, dtype=np.float64),
            np.asarray(in_time_ns, dtype=np.float64), float(in_time_tolerance_ns), bool(fixed_times),
            None if seed_weights is None else np.asarray(seed_weights, dtype=np.float64), float(seed_merge_ns),
        )  # fmt: skip
        return Columns(raw)
