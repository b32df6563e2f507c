// Amplitude of a pulse peaking at a known time, with a local straight-line baseline and
// optionally one more (pile-up) pulse nearby: the re-measurement of cells whose free fit
// cannot be trusted. A fixed time leaves a small linear problem per window.
#pragma once
#include <cstddef>
#include <cstdint>

#include "waveform/pulse_template.hpp"

namespace na64::calo {

struct FixedTimeWindows {
  std::size_t n = 0;
  int width = 0;
  const double* samples = nullptr;    // n x width, ADC counts
  const int64_t* nsamples = nullptr;  // recorded samples per row
  const double* t_peak_ns = nullptr;  // known peak time per row, ns from the first sample
};

struct FixedTimeSettings {
  double sampling_ns = 12.5;
  double before = 2.0;  // samples used from `before` sampling periods before the peak ...
  double after = 5.0;   // ... to `after` periods after it
  double saturation_adc = 4095.0;
  double neighbour_ns = 0.0;  // > 0: one more pulse (amplitude >= 0) within this distance
  double neighbour_min_sep_ns = 6.0;
  double neighbour_step_ns = 1.25;
  double neighbour_dchi2 = 25.0;  // chi2 gain (noise units) the neighbour must bring
  double noise_adc = 2.0;
};

// out[i]: the in-time amplitude (ADC), NaN where fewer than 4 usable samples remain or
// the problem is singular.
void fixed_time_amplitude(const FixedTimeWindows& w, const FixedTimeSettings& s, const waveform::SampledShape& shape,
                          double* out);

}  // namespace na64::calo
