#include "calo/fixed_time_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "waveform/small_linalg.hpp"

namespace na64::calo {

namespace {

constexpr int kMaxWidth = 256;
constexpr double kSingularDet = 1e-9;

// Least squares of y on the first m columns (masked rows already zero) through the normal
// equations, with the waveform fitter's small solvers. Returns false when the normal matrix
// is singular (not positive definite, or determinant below kSingularDet); otherwise beta and
// the chi2 over the used samples.
bool solve_columns(const double* const* cols, int m, const double* y, const unsigned char* use, int width,
                   double* beta, double& chi2) {
  double a[16], rhs[4];
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j <= i; ++j) a[i * m + j] = a[j * m + i] = waveform::dot(cols[i], cols[j], width);
    rhs[i] = waveform::dot(cols[i], y, width);
  }
  if (!waveform::cholesky(a, m, m)) return false;
  double det = 1.0;
  for (int i = 0; i < m; ++i) det *= a[i * m + i] * a[i * m + i];
  if (!(det > kSingularDet)) return false;
  waveform::cholesky_solve(a, m, m, rhs, beta);
  chi2 = 0.0;
  for (int k = 0; k < width; ++k) {
    if (!use[k]) continue;
    double model = 0.0;
    for (int i = 0; i < m; ++i) model += cols[i][k] * beta[i];
    chi2 += (y[k] - model) * (y[k] - model);
  }
  return true;
}

}  // namespace

void fixed_time_amplitude(const FixedTimeWindows& w, const FixedTimeSettings& s, const waveform::SampledShape& shape,
                          double* out) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const int width = std::clamp(w.width, 0, kMaxWidth);
  const double dt = s.sampling_ns, half = 0.5 * dt;
  double y[kMaxWidth], tpl[kMaxWidth], ones[kMaxWidth], slope[kMaxWidth], nb[kMaxWidth], deriv[kMaxWidth];
  unsigned char use[kMaxWidth];
  long n_offsets = 0;
  if (s.neighbour_ns > 0.0 && s.neighbour_step_ns > 0.0)
    n_offsets = static_cast<long>(std::ceil(std::min((2.0 * s.neighbour_ns + 1e-9) / s.neighbour_step_ns, 1e5)));
  for (std::size_t i = 0; i < w.n; ++i) {
    out[i] = nan;
    const double tc = w.t_peak_ns[i];
    if (!std::isfinite(tc)) continue;
    const double* row = w.samples + i * static_cast<std::size_t>(w.width);
    const int ns = static_cast<int>(std::clamp<int64_t>(w.nsamples[i], 0, width));
    int count = 0;
    for (int k = 0; k < width; ++k) {
      const double x = k * dt - tc;
      use[k] = k < ns && row[k] < s.saturation_adc && x >= -s.before * dt - half && x <= s.after * dt + half;
      count += use[k];
      y[k] = use[k] ? row[k] : 0.0;
      ones[k] = use[k] ? 1.0 : 0.0;
      slope[k] = use[k] ? x / 100.0 : 0.0;
    }
    if (count < 4) continue;
    shape.eval_window(tc, width, tpl, deriv);
    for (int k = 0; k < width; ++k)
      if (!use[k]) tpl[k] = 0.0;
    const double* cols[4] = {tpl, ones, slope, nb};
    double beta[4], chi2 = inf, best = inf;
    if (solve_columns(cols, 3, y, use, width, beta, chi2)) {
      best = chi2;
      out[i] = beta[0];
    }
    if (n_offsets == 0 || count < 5) continue;
    // the neighbour taking the smallest chi2 (first on ties), if it has amplitude >= 0
    double best_nb = inf, amp_nb = nan;
    for (long j = 0; j < n_offsets; ++j) {
      const double off = -s.neighbour_ns + static_cast<double>(j) * s.neighbour_step_ns;
      if (!(std::fabs(off) >= s.neighbour_min_sep_ns)) continue;
      shape.eval_window(tc + off, width, nb, deriv);
      for (int k = 0; k < width; ++k)
        if (!use[k]) nb[k] = 0.0;
      double b4[4], c4;
      if (!solve_columns(cols, 4, y, use, width, b4, c4) || !(b4[3] >= 0.0)) continue;
      if (c4 < best_nb) {
        best_nb = c4;
        amp_nb = b4[0];
      }
    }
    const double penalised = best_nb + s.neighbour_dchi2 * s.noise_adc * s.noise_adc;
    if (penalised < best) out[i] = amp_nb;
  }
}

}  // namespace na64::calo
