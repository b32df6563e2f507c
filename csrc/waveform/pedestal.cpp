#include "waveform/pedestal.hpp"

#include <algorithm>
#include <cmath>

namespace na64::waveform {

LeadingPedestal leading_pedestal(const double* y, const unsigned char* used, int nsamples, int count,
                                 double noise_rms) {
  LeadingPedestal out;
  count = std::min(count, nsamples);
  double sum[2] = {0.0, 0.0};
  int num[2] = {0, 0};
  for (int k = 0; k < count; ++k) {
    if (!used[k]) continue;
    sum[k % 2] += y[k];
    ++num[k % 2];
  }
  if (num[0] == 0 || num[1] == 0) return out;
  out.even = sum[0] / num[0];
  out.odd = sum[1] / num[1];
  // 4 sigma of a sample around a mean of num samples: fake alarms ~1e-4 per sample.
  const double limit[2] = {4.0 * noise_rms * std::sqrt(1.0 + 1.0 / num[0]),
                           4.0 * noise_rms * std::sqrt(1.0 + 1.0 / num[1])};
  bool quiet = true;
  double early = 0.0, late = 0.0;
  int nearly = 0, nlate = 0;
  for (int k = 0; k < count; ++k) {
    if (!used[k]) continue;
    const double dev = y[k] - (k % 2 == 0 ? out.even : out.odd);
    quiet = quiet && std::fabs(dev) <= limit[k % 2];
    if (2 * k < count) {
      early += dev;
      ++nearly;
    } else {
      late += dev;
      ++nlate;
    }
  }
  // A decaying tail (or a rising edge) shifts the two halves apart coherently.
  if (nearly > 0 && nlate > 0) {
    const double trend = early / nearly - late / nlate;
    const double trend_sigma = noise_rms * std::sqrt(1.0 / nearly + 1.0 / nlate);
    quiet = quiet && std::fabs(trend) <= 4.0 * trend_sigma;
  }
  out.quiet = quiet;
  return out;
}

}  // namespace na64::waveform
