// A model-free upper bound on the amplitude of a pulse peaking in a given time window, from
// the raw samples alone: what the selection needs when a waveform's fit cannot be trusted.
// Pulses are positive, so the samples bound what any one pulse among them can be; see
// na64reco/calo/fit_bounds.py for the argument.
#pragma once
#include <cstddef>
#include <cstdint>

#include "waveform/pulse_template.hpp"

namespace na64::calo {

struct BoundWindows {
  std::size_t n = 0;
  int width = 0;                       // samples per row
  const double* samples = nullptr;     // n x width, ADC counts
  const int64_t* nsamples = nullptr;   // recorded samples per row (clamped to 0..width)
  const double* t_lo_ns = nullptr;     // peak window per row, ns from the first sample
  const double* t_hi_ns = nullptr;
  const double* peak_floor = nullptr;  // template minimum within half a sample of its peak, (0, 1]
  const double* pedestal = nullptr;    // optional per-row pedestal estimate (may be null)
};

struct BoundSettings {
  double sampling_ns = 12.5;
  double noise_adc = 2.0;
  double saturation_adc = 4095.0;
  double step_ns = 0.5;  // grid of peak times tried when a template is given
};

// out[i]: 0 when no recorded sample lies within half a sample of the window, +inf when one
// there is clipped, else the smaller of the peak-sample bound and (with `shape`) the
// every-sample template bound.
void amplitude_upper_bound(const BoundWindows& w, const BoundSettings& s, const waveform::SampledShape* shape,
                           double* out);

}  // namespace na64::calo
