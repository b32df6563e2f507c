"""Waveforms whose fit cannot be trusted, and a model-free upper bound on their in-time energy.

A failed or doubtful fit (fitter flag ``fit_failed``, clipped samples, absurd chi2) leaves
the cell's in-time energy unknown. Rejecting every such event costs a third of the signal
at a 3 MHz beam rate, mostly for cells where a resolved pile-up pulse saturated or spoiled
the fit while the in-time pulse is small. What the selection needs is only this: could
the cell hold enough in-time energy to move the event out of the signal box? Pulses are
positive, so a pulse peaking at time t has a sample within half a sampling period of t
that is at least ``peak_floor`` (the template's smallest value within half a sample of
its peak) times its amplitude above the pedestal. Hence

    amplitude <= (max sample near the in-time window - pedestal lower bound) / peak_floor

whatever else is in the waveform; a clipped sample there makes the bound infinite. The
calorimeter reconstruction replaces such cells' in-time energy by this bound in
``e_ecal_max`` / ``e_hcal_max``, which the box cuts use.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..columns import Columns
from .channel_medians import channel_pedestal

__all__ = ["suspect_waveforms", "suspect_table", "amplitude_upper_bound", "template_peak_floor", "fixed_time_amplitude",
           "suspects_of_fit", "saturation_only_of_fit", "crowded_near_in_time", "crowded_by_counters",
           "CROWDED_BY_COUNTERS", "clipped_near", "REFIT_PLANES", "BOUND_PLANES", "SEEDED_PLANES",
           "channel_pedestal", "SATURATION_ONLY_CHI2_NDF"]


def suspect_waveforms(
    flags: np.ndarray,
    chi2_ndf: np.ndarray | None = None,
    max_chi2_ndf: float | np.ndarray = 3000.0,
    saturated: bool = True,
    extra_flags: np.ndarray | int = 0,
    pulse_wave: np.ndarray | None = None,
    pulse_amplitude: np.ndarray | None = None,
    max_amplitude_adc: float = 12000.0,
) -> np.ndarray:
    """Per-waveform bool: the fitter flagged ``fit_failed``, or the waveform has clipped
    samples (``saturated``: the masked fit extrapolates the amplitude), or its chi2/ndf
    exceeds max_chi2_ndf (the fitted pulses do not describe the samples), or one of its
    fitted pulses (pulse_wave: waveform index, pulse_amplitude) is not finite or beyond
    max_amplitude_adc (``reconstruct_calo`` drops such pulses). max_chi2_ndf and
    extra_flags (fitter flag bits that also make a waveform suspect) may be per waveform."""
    from ..waveform import FLAGS

    f = np.asarray(flags).astype(np.int64)
    bad = (f & FLAGS["fit_failed"]) != 0
    if saturated:
        bad |= (f & FLAGS["saturated"]) != 0
    if chi2_ndf is not None:
        c = np.asarray(chi2_ndf, dtype=np.float64)
        if c.shape != f.shape:
            raise ValueError(f"chi2_ndf must have one value per waveform ({f.shape}), got shape {c.shape}")
        bad |= c > np.asarray(max_chi2_ndf, dtype=np.float64)
    bad |= (f & np.asarray(extra_flags, dtype=np.int64)) != 0
    if pulse_wave is not None and pulse_amplitude is not None:
        w = np.asarray(pulse_wave, dtype=np.int64)
        a = np.asarray(pulse_amplitude, dtype=np.float64)
        if w.shape != a.shape or (w.size and (w.min() < 0 or w.max() >= f.size)):
            raise ValueError(f"pulse_wave must index the {f.size} waveforms, one per pulse_amplitude")
        bad[w[~(np.abs(a) <= max_amplitude_adc)]] = True
    return bad


def template_peak_floor(template, sampling_ns: float = 12.5) -> float:
    """Smallest template value within half a sampling period of its peak, relative to the peak."""
    half = 0.5 * float(sampling_ns)
    # PulseTemplate.value is already peak-normalised with its peak at t = 0
    return float(np.min(np.asarray(template.value(np.linspace(-half, half, 65)), dtype=np.float64)))


def suspect_table(
    digits: Mapping[str, np.ndarray],
    wave_rows: np.ndarray,
    suspect: np.ndarray,
    peak_floor: np.ndarray | float,
    pedestal: np.ndarray | None = None,
    saturated_only: np.ndarray | None = None,
) -> Columns:
    """Columns event, plane, x, y, samples, nsamples, peak_floor, saturated_only of the suspect waveforms
    (``wave_rows``: digit row of each fitted waveform; ``peak_floor``: per waveform or one
    value), the input of ``reconstruct_calo(..., suspects=...)``. pedestal: the fitter's
    per-waveform pedestal (the lower of even and odd), which bounds the pedestal from above
    when pile-up tails lift every sample; without it the smallest sample does. saturated_only
    (per waveform, ``saturation_only_of_fit``): suspect only for clipped samples, with a good
    fit otherwise; ``reconstruct_calo`` trusts those whose clipped samples lie away from the
    in-time pulse."""
    rows = np.asarray(wave_rows, dtype=np.int64)
    suspect = np.asarray(suspect, dtype=bool)
    if suspect.shape != rows.shape:
        raise ValueError(f"suspect must have one value per waveform ({rows.shape}), got shape {suspect.shape}")
    floor = np.broadcast_to(np.asarray(peak_floor, dtype=np.float64), rows.shape)[suspect]
    r = rows[suspect]
    samples = np.asarray(digits["samples"])[r]
    nsamples = np.asarray(digits["nsamples"])[r] if "nsamples" in digits else np.full(r.size, samples.shape[1])
    return Columns(
        event=np.asarray(digits["event"], dtype=np.int64)[r],
        plane=np.asarray(digits["plane"])[r],
        x=np.asarray(digits["x"])[r],
        y=np.asarray(digits["y"])[r],
        samples=samples,
        nsamples=np.asarray(nsamples, dtype=np.int64),
        peak_floor=floor.copy(),
        pedestal=np.full(r.size, np.inf) if pedestal is None else np.asarray(pedestal, dtype=np.float64)[suspect],
        saturated_only=np.zeros(r.size, bool) if saturated_only is None else np.asarray(saturated_only, bool)[suspect],
    )


def amplitude_upper_bound(
    samples: np.ndarray,
    nsamples: np.ndarray,
    t_lo_ns: np.ndarray,
    t_hi_ns: np.ndarray,
    peak_floor: np.ndarray | float,
    sampling_ns: float = 12.5,
    noise_adc: float = 2.0,
    saturation_adc: float = 4095.0,
    pedestal: np.ndarray | None = None,
    template=None,
    step_ns: float = 0.5,
) -> np.ndarray:
    """Largest amplitude (ADC) a pulse peaking in [t_lo_ns, t_hi_ns] (times from the first
    sample) can have in each row of samples; inf where a sample there is clipped.

    The pedestal's lower bound is the smallest recorded sample, or the given per-waveform
    pedestal estimate when lower (tails of pile-up pulses can lift every sample), less
    3 noise_adc. A window outside the recorded samples gives 0 (no such pulse was recorded).

    With the pulse ``template`` every unclipped sample k bounds a pulse peaking at t:
    amplitude <= (s_k - pedestal + 5 noise + 0.5) / T(t_k - t) wherever T >= 0.05; the bound is
    the largest, over t in the window (step_ns grid), of the smallest of these. Samples
    after the peak then cap what the tail of an earlier pile-up pulse adds to the peak
    sample. Both bounds hold (templates are non-negative), so the smaller is returned.
    """
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"samples must have shape (n, W), got {s.shape}")
    n, width = s.shape
    ns = np.asarray(nsamples, dtype=np.int64)
    lo = np.asarray(t_lo_ns, dtype=np.float64)
    hi = np.asarray(t_hi_ns, dtype=np.float64)
    floor = np.broadcast_to(np.asarray(peak_floor, dtype=np.float64), (n,))
    for name, a in (("nsamples", ns), ("t_lo_ns", lo), ("t_hi_ns", hi)):
        if a.shape != (n,):
            raise ValueError(f"{name} must have one value per waveform ({n}), got shape {a.shape}")
    if np.any(~(floor > 0) | ~(floor <= 1)):
        raise ValueError("peak_floor must lie in (0, 1]")
    from .._core import calo as _calo

    ped = None if pedestal is None else np.ascontiguousarray(np.broadcast_to(np.asarray(pedestal, dtype=np.float64), (n,)))
    return _calo.amplitude_upper_bound(
        np.ascontiguousarray(s), ns, lo, hi, np.ascontiguousarray(floor), ped, template,
        float(sampling_ns), float(noise_adc), float(saturation_adc), float(step_ns),
    )  # fmt: skip



def fixed_time_amplitude(
    samples: np.ndarray,
    nsamples: np.ndarray,
    t_peak_ns: np.ndarray,
    template,
    sampling_ns: float = 12.5,
    before: int = 2,
    after: int = 5,
    saturation_adc: float = 4095.0,
    neighbour_ns: float = 0.0,
    neighbour_min_sep_ns: float = 6.0,
    neighbour_step_ns: float = 1.25,
    neighbour_dchi2: float = 25.0,
    noise_adc: float = 2.0,
) -> np.ndarray:
    """Amplitude (ADC) of a pulse peaking at a known time, fitted with a local straight-line
    baseline on the samples from ``before`` sampling periods before to ``after`` after it.

    The repair for a doubtful fit of a small in-time pulse: the fitter's free pulse search
    can hang a huge pulse before the window on the tail of an earlier one and lose the
    in-time pulse; a fixed time leaves a linear problem, and the local baseline absorbs the
    slowly varying tails of earlier pulses. NaN where fewer than 4 usable samples remain.

    neighbour_ns > 0 also lets one more pulse (amplitude >= 0) peak anywhere within that
    distance of the known time, but not closer than neighbour_min_sep_ns, on a grid of
    neighbour_step_ns; it is kept when it lowers chi2 (in units of noise_adc^2) by at least
    neighbour_dchi2, as the fitter's own pile-up test asks. A pile-up
    pulse a sample or two away, which a straight baseline cannot follow, is then taken by
    the neighbour instead of leaking into (or being subtracted from) the in-time amplitude.
    """
    s = np.asarray(samples, dtype=np.float64)
    n, width = s.shape
    ns = np.asarray(nsamples, dtype=np.int64)
    tc = np.asarray(t_peak_ns, dtype=np.float64)
    if ns.shape != (n,) or tc.shape != (n,):
        raise ValueError(f"nsamples and t_peak_ns must have one value per waveform ({n})")
    if n == 0:
        return np.zeros(0)
    from .._core import calo as _calo

    return _calo.fixed_time_amplitude(
        np.ascontiguousarray(s), ns, tc, template, float(sampling_ns), float(before), float(after),
        float(saturation_adc), float(neighbour_ns), float(neighbour_min_sep_ns), float(neighbour_step_ns),
        float(neighbour_dchi2), float(noise_adc),
    )  # fmt: skip


# The per-detector policy used by the benchmarks and the pipeline. SRD pulses are small and
# the srd cut needs the in-time one, so their fits are doubtful from a lower chi2/ndf or
# when the main pulse sits out of the window (a pre-window tail fitted instead); ECAL and
# SRD suspects are refitted at the expected time (ECAL ones are also bounded from above);
# ECAL and SRD suspects are then fitted again from the pulse times of the event's other
# channels (seeded_refit).
SUSPECT_CHI2_NDF = {"srd": 20.0}
SUSPECT_FLAGS = {"srd": ("out_of_window",)}
# ... and when two pulses peak within this many ns of the expected in-time time (the kind's
# fitter option trigger_time_ns): they share samples, and a small in-time pulse merges into
# the pile-up one or is pushed out of its window (seeded_refit measures it at fixed times)
NEAR_PILEUP_NS = {"srd": 30.0}
# ... and when the beam counters saw two particles that close to the in-time one: the free fit
# of the SRD can merge their pulses into one, which is then neither crowded nor in time (the
# counters' pulses are large and sharp, their times precise; one particle's pulses in S1..S4
# lie within a nanosecond or two, so times further apart than COUNTER_MERGE_NS are two)
CROWDED_BY_COUNTERS = {"srd": ("S1", "S2", "S3", "S4")}
COUNTER_MIN_ADC = 100.0
COUNTER_MERGE_NS = 5.0
REFIT_PLANES = {"ECAL0": "ecal", "ECAL1": "ecal", "SRD": "srd"}
# plane -> (template, planes whose pulses seed its doubtful fits, times held fixed)
SEEDED_PLANES = {
    "ECAL0": ("ecal", ("ECAL0", "ECAL1"), False),
    "ECAL1": ("ecal", ("ECAL0", "ECAL1"), False),
    "SRD": ("srd", ("S1", "S2", "S3", "S4", "ECAL0", "ECAL1"), True),
}
BOUND_PLANES = {"ECAL0": "ecal", "ECAL1": "ecal", "HCAL0": "hcal", "HCAL1": "hcal", "HCAL2": "hcal", "HCAL3": "hcal"}


# a saturated waveform whose fit is otherwise good (chi2/ndf at most this, no other reason to
# doubt it) keeps its fitted in-time energy when its clipped samples lie away from that pulse
SATURATION_ONLY_CHI2_NDF = 10.0


def suspects_of_fit(kind: str, waves: Mapping[str, np.ndarray], pulses: Mapping[str, np.ndarray],
                    saturated: bool = True, max_chi2_ndf: float | None = None, near_pileup: bool = True) -> np.ndarray:
    """``suspect_waveforms`` of one detector kind's ``FitResult.waves`` / ``.pulses``
    (max_chi2_ndf: overrides the kind's SUSPECT_CHI2_NDF), and with near_pileup the
    waveforms crowded near the in-time pulse (``crowded_near_in_time``)."""
    from ..waveform import FLAGS

    ndf = np.maximum(np.asarray(waves["ndf"], dtype=np.float64), 1.0)
    extra = 0
    for name in SUSPECT_FLAGS.get(kind, ()):
        extra |= FLAGS[name]
    if near_pileup and kind in NEAR_PILEUP_NS:
        return crowded_near_in_time(kind, waves, pulses) | suspects_of_fit(kind, waves, pulses, saturated, max_chi2_ndf,
                                                                          near_pileup=False)  # fmt: skip
    return suspect_waveforms(
        waves["flags"], chi2_ndf=np.asarray(waves["chi2"], dtype=np.float64) / ndf,
        max_chi2_ndf=SUSPECT_CHI2_NDF.get(kind, 3000.0) if max_chi2_ndf is None else max_chi2_ndf,
        saturated=saturated, extra_flags=extra, pulse_wave=pulses["wave"], pulse_amplitude=pulses["amplitude"],
    )  # fmt: skip


def crowded_near_in_time(kind: str, waves: Mapping[str, np.ndarray], pulses: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per waveform: two fitted pulses within NEAR_PILEUP_NS[kind] of the expected in-time time
    (the fitter option trigger_time_ns; all False for a kind without both)."""
    from .fit_options import fit_options

    n = np.asarray(waves["flags"]).size
    centre = fit_options(kind).get("trigger_time_ns")
    if kind not in NEAR_PILEUP_NS or centre is None:
        return np.zeros(n, dtype=bool)
    half = NEAR_PILEUP_NS[kind]
    wave = np.asarray(pulses["wave"], dtype=np.int64)
    close = np.abs(np.asarray(pulses["time_ns"], dtype=np.float64) - centre) <= half
    return np.bincount(wave[close], minlength=n)[:n] >= 2


def crowded_by_counters(event: np.ndarray, time_ns: np.ndarray, amplitude: np.ndarray, n_events: int,
                        centre_ns: float, half_ns: float, min_adc: float = COUNTER_MIN_ADC,
                        merge_ns: float = COUNTER_MERGE_NS) -> np.ndarray:
    """Per event: its beam-counter pulses (``event``, ``time_ns``, ``amplitude`` of the
    counter planes' fitted pulses) of at least min_adc within half_ns of centre_ns peak at
    times more than merge_ns apart, i.e. two particles crossed the counters near the in-time
    time."""
    ev = np.asarray(event, dtype=np.int64)
    t = np.asarray(time_ns, dtype=np.float64)
    use = (np.asarray(amplitude) >= min_adc) & (np.abs(t - centre_ns) <= half_ns) & (ev >= 0) & (ev < n_events)
    lo = np.full(n_events, np.inf)
    hi = np.full(n_events, -np.inf)
    np.minimum.at(lo, ev[use], t[use])
    np.maximum.at(hi, ev[use], t[use])
    return hi - lo > merge_ns


def saturation_only_of_fit(kind: str, waves: Mapping[str, np.ndarray], pulses: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per waveform: suspect (``suspects_of_fit``) only because samples were clipped, the fit
    of the rest being good (chi2/ndf <= SATURATION_ONLY_CHI2_NDF, no failure, no absurd pulse)."""
    chi2_limit = min(SATURATION_ONLY_CHI2_NDF, SUSPECT_CHI2_NDF.get(kind, 3000.0))
    return suspects_of_fit(kind, waves, pulses, near_pileup=False) & ~suspects_of_fit(
        kind, waves, pulses, saturated=False, max_chi2_ndf=chi2_limit, near_pileup=False)


def clipped_near(samples: np.ndarray, nsamples: np.ndarray, t_peak_ns: np.ndarray, before_ns: float, after_ns: float,
                 saturation_adc: float = 4095.0, sampling_ns: float = 12.5) -> np.ndarray:
    """Per row: a recorded sample at or above saturation_adc lies within [t_peak - before_ns,
    t_peak + after_ns] (times from the first sample)."""
    s = np.asarray(samples)
    k = np.arange(s.shape[1])
    t = k * float(sampling_ns)
    tc = np.asarray(t_peak_ns, dtype=np.float64)[:, None]
    recorded = k[None, :] < np.asarray(nsamples, dtype=np.int64)[:, None]
    window = (t[None, :] >= tc - before_ns) & (t[None, :] <= tc + after_ns)
    return (recorded & window & (s >= saturation_adc)).any(axis=1)
