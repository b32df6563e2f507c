// Options, quality flags and output layout of the waveform fitter.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

namespace na64::waveform {

// Per-waveform quality flags (bit mask); documented in docs/waveform.md.
enum Flag : uint32_t {
  kSaturated = 1u << 0,       // samples at the overflow code were masked
  kPileup = 1u << 1,          // more than one significant pulse
  kFitFailed = 1u << 2,       // too few usable samples or a numerically singular fit
  kOutOfWindow = 1u << 3,     // no pulse in the in-time window (or inside the sampling window)
  kNoPulse = 1u << 4,         // no significant positive pulse (flat or empty channel)
  kNegative = 1u << 5,        // significant negative excursion
  kPedestalFitted = 1u << 6,  // leading-sample pedestal was disturbed: fitted jointly instead
  kMaskedSamples = 1u << 7,   // samples beyond the recorded count or non-finite were masked
  kHinted = 1u << 8,          // amplitudes fitted at pulse times given in advance (fit's hints)
};

enum class PedestalMode { kFit, kLeading, kFixed };

struct FitterConfig {
  double sampling_ns = 12.5;
  int nsamples = 32;
  double noise_rms = 2.0;
  std::vector<double> noise_covariance;  // nsamples^2, row-major; empty = white noise
  PedestalMode pedestal = PedestalMode::kFit;
  int leading_samples = 6;               // for PedestalMode::kLeading
  double saturation_adc = 4095.0;        // samples >= this are masked
  bool pileup = true;
  int max_pulses = 6;
  double phase_step_ns = 0.5;            // per-phase coefficient table granularity
  bool exact_refinement = false;         // lone pulses: Gauss-Newton on the exact template
                                         // instead of the table's curvature-corrected step
  double dictionary_step_ns = 6.25;      // NNLS dictionary spacing (half a sample)
  double pre_window_ns = 100.0;          // earliest dictionary pulse: tails of earlier pulses
  double post_window_ns = 12.5;          // latest dictionary pulse after the last sample
  double min_significance = 5.0;         // amplitude / error for a pulse to count
  double pileup_chi2_sigma = 3.0;        // prefilter: chi2 above ndf + this * sqrt(2 ndf)
  double pileup_residual_sigma = 3.5;    // prefilter: residual bump (2-sample sum) in sigma
  double pileup_dchi2 = 25.0;            // chi2 gain needed to keep an extra pulse
  double trigger_time_ns = std::numeric_limits<double>::quiet_NaN();  // NaN: none
  double in_time_window_ns = 25.0;       // half width around trigger_time_ns
  int threads = 1;
};

// Per-waveform outputs (the main / in-time pulse), as column pointers of length n.
struct WaveOutputs {
  double* amplitude;
  double* amplitude_err;
  double* time_ns;
  double* time_err;
  double* pedestal;       // mean of the even and odd pedestals
  double* pedestal_even;
  double* pedestal_odd;
  double* chi2;
  int32_t* ndf;
  int32_t* npulses;
  uint32_t* flags;
  double* pileup_amplitude;  // sum of the amplitudes of the other pulses
};

// Input of WaveformFitter::fit_seeded: n rows of `width` samples (width = the fitter's
// nsamples), optional recorded counts, and per row the seed peak times
// seed_times[seed_offsets[i] .. seed_offsets[i+1]) (optional weights alongside: of seeds
// within seed_merge_ns of each other the heaviest is kept) and the expected in-time peak
// time, itself a seed (it wins over other seeds within seed_merge_ns of it; NaN: none).
struct SeededInputs {
  const double* samples = nullptr;
  int64_t n = 0;
  const int32_t* recorded = nullptr;
  const int64_t* seed_offsets = nullptr;  // n + 1, non-decreasing, starting at 0
  const double* seed_times = nullptr;
  const double* in_time_ns = nullptr;
  const double* seed_weights = nullptr;
  double seed_merge_ns = 0.0;  // <= 0: a quarter sample
  double in_time_tolerance_ns = 3.0;  // a fitted pulse this close to in_time_ns is the in-time one
  // true: amplitudes at the seed times as given (small pulses next to others, whose own times
  // the samples fix worse than the seeds do); false: times refined and unseeded pulses added
  bool fixed_times = false;
};

// Per row: the in-time pulse (amplitude 0 and time NaN when none is left), the fit's chi2 and
// ndf, the pulses kept, whether the model reaches the clipping level at every clipped
// sample (a model that stays below it lacks amplitude somewhere: not to be trusted), and how
// close the nearest other pulse is.
struct SeededOutputs {
  double* amplitude;
  double* amplitude_err;
  double* time_ns;
  double* chi2;
  int32_t* ndf;
  int32_t* npulses;
  uint8_t* ok;             // the fit converged
  uint8_t* clip_consistent;
  // distance (ns) from the in-time time to the nearest other pulse of the final model, inf
  // when there is none: pulses closer than about a sample and a half share their samples,
  // and with clipped peaks the fit can then split them wrongly and still describe the samples
  double* nearest_other_ns;
};

}  // namespace na64::waveform
