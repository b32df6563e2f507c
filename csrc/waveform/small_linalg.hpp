// Dense symmetric positive-definite solves for the handful of parameters of a waveform fit
// (at most kMaxParams), on the stack.
#pragma once
#include <cmath>

namespace na64::waveform {

constexpr int kMaxParams = 24;

// In-place Cholesky of the n x n matrix a (row-major, leading dimension ld); false when a is
// not numerically positive definite.
inline bool cholesky(double* a, int n, int ld) {
  for (int j = 0; j < n; ++j) {
    double d = a[j * ld + j];
    for (int k = 0; k < j; ++k) d -= a[j * ld + k] * a[j * ld + k];
    if (!(d > 1e-300) || !std::isfinite(d)) return false;
    d = std::sqrt(d);
    a[j * ld + j] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * ld + j];
      for (int k = 0; k < j; ++k) s -= a[i * ld + k] * a[j * ld + k];
      a[i * ld + j] = s / d;
    }
  }
  return true;
}

// Solve L L^T x = b with the factor from cholesky(); x may alias b.
inline void cholesky_solve(const double* l, int n, int ld, const double* b, double* x) {
  for (int i = 0; i < n; ++i) {
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= l[i * ld + k] * x[k];
    x[i] = s / l[i * ld + i];
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = x[i];
    for (int k = i + 1; k < n; ++k) s -= l[k * ld + i] * x[k];
    x[i] = s / l[i * ld + i];
  }
}

// Diagonal of the inverse from the Cholesky factor (the parameter variances):
// (L L^T)^-1 = L^-T L^-1, so entry j is the squared norm of column j of L^-1, found by one
// forward substitution from the j-th unit vector (n^3 / 6 operations in all).
inline void cholesky_inverse_diagonal(const double* l, int n, int ld, double* diag) {
  double x[kMaxParams];
  for (int j = 0; j < n; ++j) {
    x[j] = 1.0 / l[j * ld + j];
    double s2 = x[j] * x[j];
    for (int i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (int k = j; k < i; ++k) s -= l[i * ld + k] * x[k];
      x[i] = s / l[i * ld + i];
      s2 += x[i] * x[i];
    }
    diag[j] = s2;
  }
}

// Four independent partial sums: without them the additions form one serial dependency
// chain (the compiler may not reorder floating-point sums), which dominated the fit time.
inline double dot(const double* a, const double* b, int n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace na64::waveform
