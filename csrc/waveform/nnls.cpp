#include "waveform/nnls.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "waveform/small_linalg.hpp"

namespace na64::waveform {

namespace {

// Unconstrained solution restricted to the passive set; false if numerically singular.
bool solve_passive(const Dictionary& dict, const double* b, const int* idx, int n, double* z) {
  double m[kMaxActive * kMaxActive];
  for (int i = 0; i < n; ++i) {
    const double* row = dict.row(idx[i]);
    for (int j = 0; j < n; ++j) m[i * n + j] = row[idx[j]];
  }
  if (!cholesky(m, n, n)) return false;
  double rhs[kMaxActive];
  for (int i = 0; i < n; ++i) rhs[i] = b[idx[i]];
  cholesky_solve(m, n, n, rhs, z);
  return true;
}

// Index of the largest w[j] * inv_norm[j] above floor (the earliest among equal ones), -1 if
// none. Four lanes scanned side by side: one running maximum is a serial compare chain that
// dominated the NNLS; the merge keeps the earliest index, so the answer is the same.
int most_correlated(const double* w, const double* inv_norm, int natoms, double floor) {
  int lane_best[4] = {-1, -1, -1, -1};
  double lane_score[4] = {floor, floor, floor, floor};
  int j = 0;
  for (; j + 4 <= natoms; j += 4)
    for (int l = 0; l < 4; ++l) {
      const double s = w[j + l] * inv_norm[j + l];
      if (s > lane_score[l]) {
        lane_score[l] = s;
        lane_best[l] = j + l;
      }
    }
  for (; j < natoms; ++j) {
    const double s = w[j] * inv_norm[j];
    if (s > lane_score[0]) {
      lane_score[0] = s;
      lane_best[0] = j;
    }
  }
  int best = -1;
  double best_score = floor;
  for (int l = 0; l < 4; ++l)
    if (lane_best[l] >= 0 && (lane_score[l] > best_score || (lane_score[l] == best_score && lane_best[l] < best))) {
      best_score = lane_score[l];
      best = lane_best[l];
    }
  return best;
}

// w -= row * xi, four atoms per step with GCC/Clang vector types (the same operations; the
// compiler cannot vectorise the plain loop on its own, not knowing that w and row are apart).
void subtract_scaled(const double* row, double xi, int natoms, double* w) {
  int j = 0;
#if defined(__GNUC__) || defined(__clang__)
  using linalg_detail::load_quad;
  using linalg_detail::quad;
  const quad x = {xi, xi, xi, xi};
  for (; j + 4 <= natoms; j += 4) {
    const quad v = load_quad(w + j) - load_quad(row + j) * x;
    std::memcpy(w + j, &v, sizeof(quad));
  }
#endif
  for (; j < natoms; ++j) w[j] -= row[j] * xi;
}

}  // namespace

void nnls_gram(const Dictionary& dict, const double* b, double tolerance, int max_active, double* w,
               NnlsResult& out) {
  const int natoms = dict.natoms;
  const double* inv_norm = dict.inv_norms();
  max_active = std::clamp(max_active, 1, kMaxActive);
  int idx[kMaxActive];
  double x[kMaxActive];
  int n = 0;
  for (int j = 0; j < natoms; ++j) w[j] = b[j];
  unsigned char excluded_budget = 0;
  for (int outer = 0; outer < 3 * kMaxActive; ++outer) {
    // Most correlated atom not yet passive.
    int best = most_correlated(w, inv_norm, natoms, tolerance);
    // Passive atoms have zero gradient up to rounding; never pick one twice.
    for (int i = 0; i < n && best >= 0; ++i)
      if (idx[i] == best) best = -1;
    if (best < 0 || n >= max_active) break;
    idx[n] = best;
    x[n] = 0.0;
    ++n;
    bool added_ok = true;
    for (int inner = 0; inner < 3 * kMaxActive; ++inner) {
      double z[kMaxActive];
      if (!solve_passive(dict, b, idx, n, z)) {
        // The new atom is (numerically) a combination of the passive ones: drop it.
        --n;
        added_ok = false;
        break;
      }
      bool feasible = true;
      for (int i = 0; i < n; ++i) feasible = feasible && z[i] > 0.0;
      if (feasible) {
        for (int i = 0; i < n; ++i) x[i] = z[i];
        break;
      }
      // Step from x towards z until the first passive coefficient hits zero, drop those.
      double alpha = 1.0;
      for (int i = 0; i < n; ++i)
        if (z[i] <= 0.0) alpha = std::min(alpha, x[i] / (x[i] - z[i]));
      int m = 0;
      for (int i = 0; i < n; ++i) {
        const double xi = x[i] + alpha * (z[i] - x[i]);
        if (xi > 1e-12 * (1.0 + std::fabs(x[i]))) {
          idx[m] = idx[i];
          x[m] = xi;
          ++m;
        }
      }
      n = m;
      if (n == 0) break;
    }
    if (!added_ok && ++excluded_budget > 3) break;
    // Gradient w = b - G x over all atoms (x is sparse), one contiguous Gram row per passive
    // atom (G is symmetric; per atom the terms are subtracted in the same order as a dot).
    for (int j = 0; j < natoms; ++j) w[j] = b[j];
    for (int i = 0; i < n; ++i) subtract_scaled(dict.row(idx[i]), x[i], natoms, w);
    if (!added_ok) {
      // Keep the singular atom from being chosen again.
      w[best] = 0.0;
    }
  }
  out.nactive = n;
  for (int i = 0; i < n; ++i) {
    out.index[i] = idx[i];
    out.value[i] = x[i];
  }
}

}  // namespace na64::waveform
