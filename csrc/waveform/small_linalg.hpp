// Dense symmetric positive-definite solves for the handful of parameters of a waveform fit
// (at most kMaxParams), on the stack.
//
// The fits solve thousands of 2x2 to 8x8 systems per millisecond; with the size known only at
// run time the loops of these tiny factorisations are mostly loop control and mispredicted
// exits. The common sizes are therefore instantiated with a compile-time size (fully unrolled
// by the compiler) and dispatched from the run-time entry points. Both forms perform the very
// same floating-point operations in the same order, so results do not depend on the path.
#pragma once
#include <cmath>
#include <cstring>

namespace na64::waveform {

constexpr int kMaxParams = 24;

namespace linalg_detail {

// The loops shared by the fixed-size and the run-time-size versions: N > 0 is the size known
// at compile time (n and ld are then ignored), N == 0 takes n and ld.
template <int N>
inline bool cholesky_impl(double* a, int n, int ld) {
  if constexpr (N > 0) {
    n = N;
    ld = N;
  }
#pragma GCC unroll 8
  for (int j = 0; j < n; ++j) {
    double d = a[j * ld + j];
#pragma GCC unroll 8
    for (int k = 0; k < j; ++k) d -= a[j * ld + k] * a[j * ld + k];
    if (!(d > 1e-300) || !std::isfinite(d)) return false;
    d = std::sqrt(d);
    a[j * ld + j] = d;
#pragma GCC unroll 8
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * ld + j];
#pragma GCC unroll 8
      for (int k = 0; k < j; ++k) s -= a[i * ld + k] * a[j * ld + k];
      a[i * ld + j] = s / d;
    }
  }
  return true;
}

template <int N>
inline void cholesky_solve_impl(const double* l, int n, int ld, const double* b, double* x) {
  if constexpr (N > 0) {
    n = N;
    ld = N;
  }
  // Reciprocals of the diagonal first: they depend on the factor only, so the divisions
  // overlap instead of sitting on the dependency chain of the substitutions.
  double inv[kMaxParams];
#pragma GCC unroll 8
  for (int i = 0; i < n; ++i) inv[i] = 1.0 / l[i * ld + i];
#pragma GCC unroll 8
  for (int i = 0; i < n; ++i) {
    double s = b[i];
#pragma GCC unroll 8
    for (int k = 0; k < i; ++k) s -= l[i * ld + k] * x[k];
    x[i] = s * inv[i];
  }
#pragma GCC unroll 8
  for (int i = n - 1; i >= 0; --i) {
    double s = x[i];
#pragma GCC unroll 8
    for (int k = i + 1; k < n; ++k) s -= l[k * ld + i] * x[k];
    x[i] = s * inv[i];
  }
}

template <int N>
inline void cholesky_inverse_diagonal_impl(const double* l, int n, int ld, double* diag) {
  if constexpr (N > 0) {
    n = N;
    ld = N;
  }
  double x[kMaxParams];
#pragma GCC unroll 8
  for (int j = 0; j < n; ++j) {
    x[j] = 1.0 / l[j * ld + j];
    double s2 = x[j] * x[j];
#pragma GCC unroll 8
    for (int i = j + 1; i < n; ++i) {
      double s = 0.0;
#pragma GCC unroll 8
      for (int k = j; k < i; ++k) s -= l[i * ld + k] * x[k];
      x[i] = s / l[i * ld + i];
      s2 += x[i] * x[i];
    }
    diag[j] = s2;
  }
}

}  // namespace linalg_detail

// In-place Cholesky of the n x n matrix a (row-major, leading dimension ld); false when a is
// not numerically positive definite.
inline bool cholesky(double* a, int n, int ld) {
  using namespace linalg_detail;
  if (n == ld) switch (n) {
      case 1: return cholesky_impl<1>(a, n, ld);
      case 2: return cholesky_impl<2>(a, n, ld);
      case 3: return cholesky_impl<3>(a, n, ld);
      case 4: return cholesky_impl<4>(a, n, ld);
      case 5: return cholesky_impl<5>(a, n, ld);
      case 6: return cholesky_impl<6>(a, n, ld);
      case 7: return cholesky_impl<7>(a, n, ld);
      case 8: return cholesky_impl<8>(a, n, ld);
      case 9: return cholesky_impl<9>(a, n, ld);
      case 10: return cholesky_impl<10>(a, n, ld);
      default: break;
    }
  return cholesky_impl<0>(a, n, ld);
}

// Solve L L^T x = b with the factor from cholesky(); x may alias b.
inline void cholesky_solve(const double* l, int n, int ld, const double* b, double* x) {
  using namespace linalg_detail;
  if (n == ld) switch (n) {
      case 1: return cholesky_solve_impl<1>(l, n, ld, b, x);
      case 2: return cholesky_solve_impl<2>(l, n, ld, b, x);
      case 3: return cholesky_solve_impl<3>(l, n, ld, b, x);
      case 4: return cholesky_solve_impl<4>(l, n, ld, b, x);
      case 5: return cholesky_solve_impl<5>(l, n, ld, b, x);
      case 6: return cholesky_solve_impl<6>(l, n, ld, b, x);
      case 7: return cholesky_solve_impl<7>(l, n, ld, b, x);
      case 8: return cholesky_solve_impl<8>(l, n, ld, b, x);
      case 9: return cholesky_solve_impl<9>(l, n, ld, b, x);
      case 10: return cholesky_solve_impl<10>(l, n, ld, b, x);
      default: break;
    }
  cholesky_solve_impl<0>(l, n, ld, b, x);
}

// Diagonal of the inverse from the Cholesky factor (the parameter variances):
// (L L^T)^-1 = L^-T L^-1, so entry j is the squared norm of column j of L^-1, found by one
// forward substitution from the j-th unit vector (n^3 / 6 operations in all).
inline void cholesky_inverse_diagonal(const double* l, int n, int ld, double* diag) {
  using namespace linalg_detail;
  if (n == ld) switch (n) {
      case 2: return cholesky_inverse_diagonal_impl<2>(l, n, ld, diag);
      case 4: return cholesky_inverse_diagonal_impl<4>(l, n, ld, diag);
      case 6: return cholesky_inverse_diagonal_impl<6>(l, n, ld, diag);
      case 8: return cholesky_inverse_diagonal_impl<8>(l, n, ld, diag);
      default: break;
    }
  cholesky_inverse_diagonal_impl<0>(l, n, ld, diag);
}

// Four independent partial sums: without them the additions form one serial dependency
// chain (the compiler may not reorder floating-point sums), which dominated the fit time.
// Partial sum l takes the products k = l (mod 4), the tail goes to sum 0; with GCC/Clang
// vector types the four sums are the lanes of one four-wide vector (one AVX instruction per
// four products where the build has AVX, two SSE2 ones otherwise: the same operations either
// way, so the same result, and dot(a, b) == dot(b, a) exactly).
#if defined(__GNUC__) || defined(__clang__)
namespace linalg_detail {
typedef double quad __attribute__((vector_size(32)));
inline quad load_quad(const double* p) {
  quad q;
  std::memcpy(&q, p, sizeof(quad));
  return q;
}
inline double lane_sum(quad s) { return (s[0] + s[1]) + (s[2] + s[3]); }
}  // namespace linalg_detail
#endif

inline double dot(const double* a, const double* b, int n) {
#if defined(__GNUC__) || defined(__clang__)
  using namespace linalg_detail;
  quad s = {0.0, 0.0, 0.0, 0.0};
  int k = 0;
  for (; k + 4 <= n; k += 4) s += load_quad(a + k) * load_quad(b + k);
  double s0 = s[0];
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s[1]) + (s[2] + s[3]);
#else
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
#endif
}

// dot() of two 32-element vectors: the same operations in the same order, fully unrolled.
inline double dot32(const double* a, const double* b) {
#if defined(__GNUC__) || defined(__clang__)
  using namespace linalg_detail;
  quad s = {0.0, 0.0, 0.0, 0.0};
#pragma GCC unroll 8
  for (int k = 0; k < 32; k += 4) s += load_quad(a + k) * load_quad(b + k);
  return lane_sum(s);
#else
  return dot(a, b, 32);
#endif
}

// dot32(a0, v) and dot32(a1, v) in one pass over v (each the same operations
// in the same order as alone): the loads of v are shared.
inline void dot2_32(const double* a0, const double* a1, const double* v, double& r0, double& r1) {
#if defined(__GNUC__) || defined(__clang__)
  using namespace linalg_detail;
  quad s = {0.0, 0.0, 0.0, 0.0}, t = {0.0, 0.0, 0.0, 0.0};
#pragma GCC unroll 8
  for (int k = 0; k < 32; k += 4) {
    const quad x = load_quad(v + k);
    s += load_quad(a0 + k) * x;
    t += load_quad(a1 + k) * x;
  }
  r0 = lane_sum(s);
  r1 = lane_sum(t);
#else
  r0 = dot(a0, v, 32);
  r1 = dot(a1, v, 32);
#endif
}

// The four products of two pairs of 32-element rows, {a0.b0, a0.b1, a1.b0, a1.b1}, in one
// pass (each the same operations in the same order as dot32 alone): every row is
// loaded once instead of twice.
inline void cross4_32(const double* a0, const double* a1, const double* b0, const double* b1, double out[4]) {
#if defined(__GNUC__) || defined(__clang__)
  using namespace linalg_detail;
  quad s[4] = {};
#pragma GCC unroll 8
  for (int k = 0; k < 32; k += 4) {
    const quad x = load_quad(a0 + k), y = load_quad(a1 + k), u = load_quad(b0 + k), w = load_quad(b1 + k);
    s[0] += x * u;
    s[1] += x * w;
    s[2] += y * u;
    s[3] += y * w;
  }
  for (int j = 0; j < 4; ++j) out[j] = lane_sum(s[j]);
#else
  out[0] = dot(a0, b0, 32);
  out[1] = dot(a0, b1, 32);
  out[2] = dot(a1, b0, 32);
  out[3] = dot(a1, b1, 32);
#endif
}

// dot(), through the unrolled 32-element kernel when n is 32 (same result either way).
inline double dot_sized(const double* a, const double* b, int n) { return n == 32 ? dot32(a, b) : dot(a, b, n); }

// out[j] = atom(j) . v for j in [0, count), atom(j) = atoms(j) (pointer to row j); with 32
// samples pairs of rows share one pass over v. Same values as dot() row by row.
template <typename Atom>
inline void dots_against(Atom atoms, int count, const double* v, int n, double* out) {
  int j = 0;
  if (n == 32)
    for (; j + 2 <= count; j += 2) dot2_32(atoms(j), atoms(j + 1), v, out[j], out[j + 1]);
  for (; j < count; ++j) out[j] = dot_sized(atoms(j), v, n);
}

}  // namespace na64::waveform
