#include "calo/fixed_time_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "waveform/small_linalg.hpp"

namespace na64::calo {

namespace {

constexpr int kMaxWidth = 256;
constexpr double kSingularDet = 1e-9;

// Least squares on m columns from their normal matrix a (m x m, overwritten by its Cholesky
// factor) and right-hand side rhs, with the waveform fitter's small solvers. Returns false
// when the normal matrix is singular (not positive definite, or determinant below
// kSingularDet); otherwise beta and the chi2 = y.y - beta.rhs (the residual's norm at the
// least-squares solution).
bool solve_normal(double* a, const double* rhs, int m, double yy, double* beta, double& chi2) {
  if (!waveform::cholesky(a, m, m)) return false;
  double det = 1.0;
  for (int i = 0; i < m; ++i) det *= a[i * m + i] * a[i * m + i];
  if (!(det > kSingularDet)) return false;
  waveform::cholesky_solve(a, m, m, rhs, beta);
  chi2 = yy;
  for (int i = 0; i < m; ++i) chi2 -= beta[i] * rhs[i];
  return true;
}

}  // namespace

void fixed_time_amplitude(const FixedTimeWindows& w, const FixedTimeSettings& s, const waveform::SampledShape& shape,
                          double* out) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const int width = std::clamp(w.width, 0, kMaxWidth);
  const double dt = s.sampling_ns, half = 0.5 * dt;
  // Columns over the used range only (the samples from `before` to `after` periods around the
  // peak): a few samples of the window, and every sum below runs over those alone.
  double y[kMaxWidth], tpl[kMaxWidth], ones[kMaxWidth], slope[kMaxWidth], nb[kMaxWidth], deriv[kMaxWidth];
  long n_offsets = 0;
  if (s.neighbour_ns > 0.0 && s.neighbour_step_ns > 0.0)
    n_offsets = static_cast<long>(std::ceil(std::min((2.0 * s.neighbour_ns + 1e-9) / s.neighbour_step_ns, 1e5)));
  for (std::size_t i = 0; i < w.n; ++i) {
    out[i] = nan;
    const double tc = w.t_peak_ns[i];
    if (!std::isfinite(tc)) continue;
    const double* row = w.samples + i * static_cast<std::size_t>(w.width);
    const int ns = static_cast<int>(std::clamp<int64_t>(w.nsamples[i], 0, width));
    int first = -1, last = -1, count = 0;
    for (int k = 0; k < ns; ++k) {
      const double x = k * dt - tc;
      if (x >= -s.before * dt - half && x <= s.after * dt + half) {
        if (first < 0) first = k;
        last = k;
      }
    }
    const int m = first < 0 ? 0 : last - first + 1;
    for (int j = 0; j < m; ++j) {
      const int k = first + j;
      const bool use = row[k] < s.saturation_adc;  // a clipped sample inside the range: left out
      count += use;
      y[j] = use ? row[k] : 0.0;
      ones[j] = use ? 1.0 : 0.0;
      slope[j] = use ? (k * dt - tc) / 100.0 : 0.0;
    }
    if (count < 4) continue;
    // T(k dt - tc) for k = first + j is T(j dt - (tc - first dt))
    const double t_first = tc - first * dt;
    shape.eval_window(t_first, m, tpl, deriv);
    for (int j = 0; j < m; ++j)
      if (ones[j] == 0.0) tpl[j] = 0.0;
    const double* fixed[3] = {tpl, ones, slope};
    double g[3][3], r[3];
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b <= a; ++b) g[a][b] = g[b][a] = waveform::dot(fixed[a], fixed[b], m);
      r[a] = waveform::dot(fixed[a], y, m);
    }
    const double yy = waveform::dot(y, y, m);
    double a3[9] = {g[0][0], g[0][1], g[0][2], g[1][0], g[1][1], g[1][2], g[2][0], g[2][1], g[2][2]};
    double beta[4], chi2 = inf, best = inf;
    if (solve_normal(a3, r, 3, yy, beta, chi2)) {
      best = chi2;
      out[i] = beta[0];
    }
    if (n_offsets == 0 || count < 5) continue;
    // the neighbour taking the smallest chi2 (first on ties), if it has amplitude >= 0
    double best_nb = inf, amp_nb = nan;
    for (long j = 0; j < n_offsets; ++j) {
      const double off = -s.neighbour_ns + static_cast<double>(j) * s.neighbour_step_ns;
      if (!(std::fabs(off) >= s.neighbour_min_sep_ns)) continue;
      shape.eval_window(t_first + off, m, nb, deriv);
      for (int q = 0; q < m; ++q)
        if (ones[q] == 0.0) nb[q] = 0.0;
      double a4[16], r4[4] = {r[0], r[1], r[2], waveform::dot(nb, y, m)};
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) a4[a * 4 + b] = g[a][b];
        a4[a * 4 + 3] = a4[3 * 4 + a] = waveform::dot(fixed[a], nb, m);
      }
      a4[15] = waveform::dot(nb, nb, m);
      double b4[4], c4;
      if (!solve_normal(a4, r4, 4, yy, b4, c4) || !(b4[3] >= 0.0)) continue;
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
