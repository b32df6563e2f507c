#include "calo/amplitude_bound.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace na64::calo {

namespace {
constexpr int kMaxWidth = 256;
constexpr double kUsableShape = 0.05;  // template values below this bound nothing useful
constexpr double kMaxRefinedSpanNs = 10000.0;
}  // namespace

void amplitude_upper_bound(const BoundWindows& w, const BoundSettings& s, const waveform::SampledShape* shape,
                           double* out) {
  const double inf = std::numeric_limits<double>::infinity();
  const double dt = s.sampling_ns, half = 0.5 * s.sampling_ns;
  const int width = std::clamp(w.width, 0, kMaxWidth);
  double f[kMaxWidth], g[kMaxWidth];
  for (std::size_t i = 0; i < w.n; ++i) {
    const double* y = w.samples + i * static_cast<std::size_t>(w.width);
    const int ns = static_cast<int>(std::clamp<int64_t>(w.nsamples[i], 0, width));
    const double lo = w.t_lo_ns[i], hi = w.t_hi_ns[i];
    bool near_any = false, clipped = false;
    double lowest = inf, top = -inf;
    for (int k = 0; k < ns; ++k) {
      lowest = std::min(lowest, y[k]);
      const double t = k * dt;
      if (t >= lo - half && t <= hi + half) {
        near_any = true;
        top = std::max(top, y[k]);
        clipped = clipped || y[k] >= s.saturation_adc;
      }
    }
    if (!near_any) {
      out[i] = 0.0;
      continue;
    }
    if (clipped) {
      out[i] = inf;
      continue;
    }
    // pile-up tails can lift every sample: a lower pedestal estimate wins
    if (w.pedestal != nullptr && w.pedestal[i] < lowest) lowest = w.pedestal[i];
    const double ped = lowest - 3.0 * s.noise_adc;
    double bound = std::max(top + 3.0 * s.noise_adc - ped, 0.0) / w.peak_floor[i];
    const double span = hi > lo ? hi - lo : 0.0;
    // the peak-sample bound holds alone; windows wider than any timing window are not refined
    if (shape != nullptr && span <= kMaxRefinedSpanNs) {
      const long steps = static_cast<long>(std::ceil(span / s.step_ns)) + 1;
      double best = -inf;
      for (long j = 0; j < steps; ++j) {
        const double peak = std::min(lo + s.step_ns * static_cast<double>(j), hi);
        shape->eval_window(peak, ns, f, g);
        // the smallest of many ratios picks the most negative noise: 5 sigma, plus rounding
        double smallest = inf;
        for (int k = 0; k < ns; ++k)
          if (f[k] >= kUsableShape && y[k] < s.saturation_adc)
            smallest = std::min(smallest, std::max(y[k] - ped + 5.0 * s.noise_adc + 0.5, 0.0) / f[k]);
        best = std::max(best, smallest);
      }
      bound = std::min(bound, best);
    }
    out[i] = bound;
  }
}

}  // namespace na64::calo
