#include "waveform/sample_space.hpp"

#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

void SampleSpace::whiten(const double* v, double* out) const {
  if (white) {
    if (nused == nsamples) {
      for (int k = 0; k < nsamples; ++k) out[k] = v[k] * inv_sigma;
    } else {
      for (int k = 0; k < nsamples; ++k) out[k] = v[k] * inv_sigma * used_weight[k];  // 0 when masked
    }
    return;
  }
  for (int i = 0; i < nsamples; ++i) {
    const double* row = &whitening[i * nsamples];
    double s = 0.0;
    for (int k = 0; k <= i; ++k) s += row[k] * v[k];
    out[i] = s;
  }
}

void SampleSpace::project(double* v) const {
  if (parity_means) {
    double se = 0.0, so = 0.0;
    for (int k = 0; k + 1 < nsamples; k += 2) {
      se += v[k];
      so += v[k + 1];
    }
    if (nsamples % 2) se += v[nsamples - 1];
    const double me = se / ((nsamples + 1) / 2), mo = so / (nsamples / 2);
    for (int k = 0; k + 1 < nsamples; k += 2) {
      v[k] -= me;
      v[k + 1] -= mo;
    }
    if (nsamples % 2) v[nsamples - 1] -= me;
    return;
  }
  if (parity_means_masked) {
    // Branch-free (weights 1 for used samples, 0 for masked ones), even and odd side by side.
    double se = 0.0, so = 0.0;
    int k = 0;
    for (; k + 1 < nsamples; k += 2) {
      se += v[k] * used_weight[k];
      so += v[k + 1] * used_weight[k + 1];
    }
    if (k < nsamples) se += v[k] * used_weight[k];
    const double me = se / used_count[0], mo = so / used_count[1];
    for (k = 0; k + 1 < nsamples; k += 2) {
      v[k] -= me * used_weight[k];
      v[k + 1] -= mo * used_weight[k + 1];
    }
    if (k < nsamples) v[k] -= me * used_weight[k];
    return;
  }
  for (int p = 0; p < npedestal; ++p) {
    const double c = dot(q[p], v, nsamples);
    for (int k = 0; k < nsamples; ++k) v[k] -= c * q[p][k];
  }
}

double SampleSpace::projected_norm2(const double* yw) const {
  double s = dot(yw, yw, nsamples);
  for (int p = 0; p < npedestal; ++p) {
    const double c = dot(q[p], yw, nsamples);
    s -= c * c;
  }
  return s > 0.0 ? s : 0.0;
}

void check_covariance(const std::vector<double>& cov, int n) {
  if (cov.size() != static_cast<size_t>(n) * static_cast<size_t>(n))
    throw InputError(concat("noise covariance has ", cov.size(), " entries, expected ", n, " x ", n,
                            " for windows of ", n, " samples"));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double a = cov[i * n + j], b = cov[j * n + i];
      if (!std::isfinite(a))
        throw InputError(concat("noise covariance entry (", i, ", ", j, ") is not finite: ", a));
      if (std::fabs(a - b) > 1e-9 * (std::fabs(a) + std::fabs(b)) + 1e-300)
        throw InputError(concat("noise covariance is not symmetric: (", i, ", ", j, ") = ", a, " but (", j,
                                ", ", i, ") = ", b));
    }
  std::vector<double> l(cov);
  if (!cholesky(l.data(), n, n))
    throw InputError("noise covariance is not positive definite");
}

bool build_space(SampleSpace& s, int n, const NoiseModel& noise, const unsigned char* mask, bool fit_pedestal) {
  s.nsamples = n;
  s.nused = 0;
  for (int k = 0; k < n; ++k) {
    s.used[k] = (mask == nullptr || mask[k] == 0) ? 1 : 0;
    s.nused += s.used[k];
  }
  for (int k = 0; k < n; ++k) s.used_weight[k] = s.used[k] ? 1.0 : 0.0;
  s.white = noise.covariance.empty();
  s.inv_sigma = 1.0 / noise.rms;
  if (!s.white) {
    // Cholesky of the covariance restricted to the used samples, inverted (lower triangular),
    // then scattered back to sample columns.
    int idx[kMaxSamples];
    int m = 0;
    for (int k = 0; k < n; ++k)
      if (s.used[k]) idx[m++] = k;
    double l[kMaxSamples * kMaxSamples];
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) l[i * m + j] = noise.covariance[idx[i] * n + idx[j]];
    if (m > 0 && !cholesky(l, m, m)) return false;
    std::memset(s.whitening, 0, sizeof(double) * static_cast<size_t>(n) * static_cast<size_t>(n));
    double inv[kMaxSamples];
    for (int j = 0; j < m; ++j) {  // column j of L^-1 by forward substitution
      for (int i = 0; i < m; ++i) {
        double r = (i == j) ? 1.0 : 0.0;
        for (int k = j; k < i; ++k) r -= l[i * m + k] * inv[k];
        inv[i] = (i < j) ? 0.0 : r / l[i * m + i];
      }
      for (int i = j; i < m; ++i) s.whitening[i * n + idx[j]] = inv[i];
    }
  }

  // Pedestal directions: whitened even and odd indicators, orthonormalised (Gram-Schmidt).
  s.npedestal = 0;
  s.nindicator = 0;
  for (int parity = 0; parity < 2; ++parity) {
    double e[kMaxSamples];
    bool any = false;
    for (int k = 0; k < n; ++k) {
      e[k] = (k % 2 == parity) ? 1.0 : 0.0;
      any = any || (e[k] != 0.0 && s.used[k]);
    }
    if (!any) continue;
    double* ind = s.indicator[s.nindicator];
    s.whiten(e, ind);
    s.indicator_parity[s.nindicator] = parity;
    ++s.nindicator;
    if (!fit_pedestal) continue;
    double* qv = s.q[s.npedestal];
    std::memcpy(qv, ind, sizeof(double) * static_cast<size_t>(n));
    for (int p = 0; p < s.npedestal; ++p) {
      const double c = dot(s.q[p], qv, n);
      for (int k = 0; k < n; ++k) qv[k] -= c * s.q[p][k];
    }
    const double norm = std::sqrt(dot(qv, qv, n));
    if (!(norm > 1e-12)) continue;
    for (int k = 0; k < n; ++k) qv[k] /= norm;
    ++s.npedestal;
  }
  s.parity_means = s.white && s.nused == n && s.npedestal == 2 && n >= 2;
  s.used_count[0] = s.used_count[1] = 0;
  for (int k = 0; k < n; ++k) s.used_count[k & 1] += s.used[k];
  s.parity_means_masked = !s.parity_means && s.white && s.npedestal == 2 && s.used_count[0] > 0 && s.used_count[1] > 0;
  for (int a = 0; a < s.nindicator; ++a)
    for (int b = 0; b < s.nindicator; ++b) s.indicator_gram[a * 2 + b] = dot(s.indicator[a], s.indicator[b], n);
  return s.nused >= s.npedestal + 3;
}

}  // namespace na64::waveform
