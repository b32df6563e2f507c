// Constants and helpers shared by the pieces of the per-waveform fit (single pulse,
// multi-pulse refinement, pile-up search). Internal to csrc/waveform.
#pragma once
#include <cmath>
#include <cstddef>

#include "waveform/fit_model.hpp"

namespace na64::waveform::detail {

constexpr double kConvergedNs = 1e-3;   // stop Gauss-Newton when no time moves more than this
constexpr double kTrialNs = 0.02;       // looser convergence for models under test
// One Gauss-Newton step from a shift below this leaves errors of order shift^2 * T''/T'
// (< 1e-3 ns and < 1e-5 relative amplitude for the default templates): no further step.
constexpr double kSingleStopNs = 0.05;
// Gauss-Newton time steps of the multi-pulse fits are limited to this many samples: beyond
// ~0.4 sample they leave the linear regime and can jump pulses across each other.
constexpr double kMaxStepSamples = 0.4;
// A pulse of a multi-pulse fit on the phase table has arrived when its remaining
// Gauss-Newton shift is below this many of its standard errors (the chi2 it could still
// gain: below this squared), however many phases the shift spans.
constexpr double kArrivedSigma = 0.25;
constexpr int kArrivalHops = 4;  // ... and below this many phases (see refine_pulses)
// Peak height (above the rough pedestal, in noise sigmas) from which a lone pulse of a
// template without a second chi2 valley is fitted without the phase scan: on simulated ECAL
// and HCAL pulses the scan changed no fitted time by more than 1 ns above 20 sigma of
// amplitude (and 0.03 % by more than 0.1 ns above 40).
constexpr double kScanFreePeakSigma = 25.0;
constexpr int kSplitCandidates = 2;  // worst-described pulses split_merged_pulses tries per round
constexpr double kCurvatureMaxShiftNs = 2.0;  // the single fit's curvature step takes shifts up to this
constexpr double kEdgeStartSigma = 5.0;    // a pulse before the window's rising edge starts the fit
constexpr double kPairReachSamples = 2.5;  // a merged pulse's pair lies this close to it
constexpr double kPairStepSamples = 0.2;   // the pair search's time grid
constexpr int kPairTimes = 26;             // 2 x 2.5 / 0.2 + 1 grid times
constexpr double kMirrorReachSamples = 2.0;  // pairs this close are also tried mirrored
constexpr double kNnlsTolerance = 2.5;  // atoms enter the NNLS above this correlation (sigmas)

inline double clampd(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The noise rms per sample: the configured one, or the root mean of the covariance's diagonal.
inline double noise_sigma(const FitterConfig& c) {
  if (c.noise_covariance.empty()) return c.noise_rms;
  double s = 0.0;
  for (int k = 0; k < c.nsamples; ++k) s += c.noise_covariance[static_cast<std::size_t>(k) * c.nsamples + k];
  return std::sqrt(s / c.nsamples);
}

// Removes the pulse with the smallest amplitude.
void drop_weakest(PulseModel& m);

}  // namespace na64::waveform::detail

namespace na64::waveform {

// Pieces of the pile-up search shared by pileup_search.cpp and pileup_repair.cpp.

// Backward elimination down to `keep` pulses (pileup_search.cpp).
void drop_unneeded_pulses(const FitContext& ctx, PulseModel& m, int keep);
// Merged pulses of a model still far off split in two (pileup_repair.cpp).
void split_merged_pulses(const FitContext& ctx, PulseModel& m);
// Close pairs tried mirrored; true when the model changed (pileup_repair.cpp).
bool mirror_close_pairs(const FitContext& ctx, PulseModel& m);

}  // namespace na64::waveform
