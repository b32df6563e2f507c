// Solves of the multi-pulse normal equations by a block LDL^T factorisation with 2x2 blocks
// (one block per pulse: its amplitude and its amplitude x time shift).
//
// The pile-up search solves these systems several times per trial model, and with Cholesky
// each row of the factor waits for a square root and a division before the next row can
// start: that chain, not the arithmetic, set the cost. Here each pulse costs one division
// (the closed-form inverse of its 2x2 pivot block), and the products around it are
// independent of each other. The matrices are symmetric positive definite, so the 2x2
// pivots need no pivoting; a pivot that is not numerically positive definite reports failure
// just as Cholesky's square root of a non-positive number would.
//
// Storage, in place in the row-major 2k x 2k matrix: below the diagonal blocks the unit
// lower factor L, in the diagonal blocks the inverse pivots D^-1, above them (transposed) the
// products W = L D that the later blocks need.
#pragma once
#include <cmath>

namespace na64::waveform {

namespace ldl_detail {

constexpr double kPivotRelTol = 1e-12;

struct Block {
  double m00, m01, m10, m11;
};

// Element (r, c) of block (bi, bj) of the 2k x 2k row-major matrix a.
inline double& at(double* a, int n, int bi, int bj, int r, int c) { return a[(2 * bi + r) * n + 2 * bj + c]; }
inline double at(const double* a, int n, int bi, int bj, int r, int c) { return a[(2 * bi + r) * n + 2 * bj + c]; }

inline Block lower(const double* a, int n, int bi, int bj) {
  return {at(a, n, bi, bj, 0, 0), at(a, n, bi, bj, 0, 1), at(a, n, bi, bj, 1, 0), at(a, n, bi, bj, 1, 1)};
}
// W_ij is kept transposed in the upper block (j, i).
inline Block w_of(const double* a, int n, int bi, int bj) {
  return {at(a, n, bj, bi, 0, 0), at(a, n, bj, bi, 1, 0), at(a, n, bj, bi, 0, 1), at(a, n, bj, bi, 1, 1)};
}

// K > 0: the block count known at compile time (k is then ignored).
template <int K>
inline bool factor_impl(double* a, int k) {
  if constexpr (K > 0) k = K;
  const int n = 2 * k;
#pragma GCC unroll 6
  for (int j = 0; j < k; ++j) {
    // Pivot D_j = A_jj - sum_m W_jm L_jm^T.
    double d00 = at(a, n, j, j, 0, 0), d01 = at(a, n, j, j, 0, 1), d11 = at(a, n, j, j, 1, 1);
#pragma GCC unroll 6
    for (int m = 0; m < j; ++m) {
      const Block w = w_of(a, n, j, m), l = lower(a, n, j, m);
      d00 -= w.m00 * l.m00 + w.m01 * l.m01;
      d01 -= w.m00 * l.m10 + w.m01 * l.m11;
      d11 -= w.m10 * l.m10 + w.m11 * l.m11;
    }
    const double det = d00 * d11 - d01 * d01;
    // Cholesky's second diagonal entry of this block would be sqrt(det / d00). The block
    // must also be positive definite beyond rounding: relative to d00 * d11, a singular
    // block's det is the rounding of its terms (of either sign, and with fused
    // multiply-adds rarely exactly 0).
    if (!(d00 > 1e-300) || !(det > kPivotRelTol * d00 * d11) || !(det > 1e-300 * d00) || !std::isfinite(det))
      return false;
    const double inv_det = 1.0 / det;
    const double i00 = d11 * inv_det, i01 = -d01 * inv_det, i11 = d00 * inv_det;
    at(a, n, j, j, 0, 0) = i00;
    at(a, n, j, j, 0, 1) = at(a, n, j, j, 1, 0) = i01;
    at(a, n, j, j, 1, 1) = i11;
#pragma GCC unroll 6
    for (int i = j + 1; i < k; ++i) {
      // G = A_ij - sum_m W_im L_jm^T = L_ij D_j
      Block g = lower(a, n, i, j);
#pragma GCC unroll 6
      for (int m = 0; m < j; ++m) {
        const Block w = w_of(a, n, i, m), l = lower(a, n, j, m);
        g.m00 -= w.m00 * l.m00 + w.m01 * l.m01;
        g.m01 -= w.m00 * l.m10 + w.m01 * l.m11;
        g.m10 -= w.m10 * l.m00 + w.m11 * l.m01;
        g.m11 -= w.m10 * l.m10 + w.m11 * l.m11;
      }
      at(a, n, j, i, 0, 0) = g.m00;  // W_ij^T
      at(a, n, j, i, 1, 0) = g.m01;
      at(a, n, j, i, 0, 1) = g.m10;
      at(a, n, j, i, 1, 1) = g.m11;
      at(a, n, i, j, 0, 0) = g.m00 * i00 + g.m01 * i01;  // L_ij = G D_j^-1
      at(a, n, i, j, 0, 1) = g.m00 * i01 + g.m01 * i11;
      at(a, n, i, j, 1, 0) = g.m10 * i00 + g.m11 * i01;
      at(a, n, i, j, 1, 1) = g.m10 * i01 + g.m11 * i11;
    }
  }
  return true;
}

template <int K>
inline void solve_impl(const double* f, int k, const double* b, double* x) {
  if constexpr (K > 0) k = K;
  const int n = 2 * k;
  double z[2 * 12];
#pragma GCC unroll 6
  for (int i = 0; i < k; ++i) {  // L z = b
    double z0 = b[2 * i], z1 = b[2 * i + 1];
#pragma GCC unroll 6
    for (int m = 0; m < i; ++m) {
      const Block l = lower(f, n, i, m);
      z0 -= l.m00 * z[2 * m] + l.m01 * z[2 * m + 1];
      z1 -= l.m10 * z[2 * m] + l.m11 * z[2 * m + 1];
    }
    z[2 * i] = z0;
    z[2 * i + 1] = z1;
  }
#pragma GCC unroll 6
  for (int i = 0; i < k; ++i) {  // D y = z
    const double i00 = at(f, n, i, i, 0, 0), i01 = at(f, n, i, i, 0, 1), i11 = at(f, n, i, i, 1, 1);
    const double z0 = z[2 * i], z1 = z[2 * i + 1];
    z[2 * i] = i00 * z0 + i01 * z1;
    z[2 * i + 1] = i01 * z0 + i11 * z1;
  }
#pragma GCC unroll 6
  for (int i = k - 1; i >= 0; --i) {  // L^T x = y
    double x0 = z[2 * i], x1 = z[2 * i + 1];
#pragma GCC unroll 6
    for (int m = i + 1; m < k; ++m) {
      const Block l = lower(f, n, m, i);
      x0 -= l.m00 * x[2 * m] + l.m10 * x[2 * m + 1];
      x1 -= l.m01 * x[2 * m] + l.m11 * x[2 * m + 1];
    }
    x[2 * i] = x0;
    x[2 * i + 1] = x1;
  }
}

// diag(A^-1) = diag(L^-T D^-1 L^-1): for each unit vector e, u = L^-1 e by block forward
// substitution and the entry is sum_i u_i^T D_i^-1 u_i.
template <int K>
inline void inverse_diagonal_impl(const double* f, int k, double* diag) {
  if constexpr (K > 0) k = K;
  const int n = 2 * k;
#pragma GCC unroll 6
  for (int j = 0; j < k; ++j) {
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      double u[2 * 12];
      u[2 * j] = c == 0 ? 1.0 : 0.0;
      u[2 * j + 1] = c == 0 ? 0.0 : 1.0;
      double s = c == 0 ? at(f, n, j, j, 0, 0) : at(f, n, j, j, 1, 1);
#pragma GCC unroll 6
      for (int i = j + 1; i < k; ++i) {
        double u0 = 0.0, u1 = 0.0;
#pragma GCC unroll 6
        for (int m = j; m < i; ++m) {
          const Block l = lower(f, n, i, m);
          u0 -= l.m00 * u[2 * m] + l.m01 * u[2 * m + 1];
          u1 -= l.m10 * u[2 * m] + l.m11 * u[2 * m + 1];
        }
        u[2 * i] = u0;
        u[2 * i + 1] = u1;
        s += at(f, n, i, i, 0, 0) * u0 * u0 + 2.0 * at(f, n, i, i, 0, 1) * u0 * u1 + at(f, n, i, i, 1, 1) * u1 * u1;
      }
      diag[2 * j + c] = s;
    }
  }
}

}  // namespace ldl_detail

// Factorises the 2k x 2k symmetric positive definite matrix a (row-major, k <= 12) in place;
// false when a pivot block is not numerically positive definite.
inline bool block_ldl_factor(double* a, int k) {
  using namespace ldl_detail;
  switch (k) {
    case 1: return factor_impl<1>(a, k);
    case 2: return factor_impl<2>(a, k);
    case 3: return factor_impl<3>(a, k);
    case 4: return factor_impl<4>(a, k);
    default: return factor_impl<0>(a, k);
  }
}

// Solves A x = b with the factor from block_ldl_factor (x may alias b).
inline void block_ldl_solve(const double* f, int k, const double* b, double* x) {
  using namespace ldl_detail;
  switch (k) {
    case 1: return solve_impl<1>(f, k, b, x);
    case 2: return solve_impl<2>(f, k, b, x);
    case 3: return solve_impl<3>(f, k, b, x);
    case 4: return solve_impl<4>(f, k, b, x);
    default: return solve_impl<0>(f, k, b, x);
  }
}

// The diagonal of A^-1 (the parameter variances) from the factor.
inline void block_ldl_inverse_diagonal(const double* f, int k, double* diag) {
  using namespace ldl_detail;
  switch (k) {
    case 1: return inverse_diagonal_impl<1>(f, k, diag);
    case 2: return inverse_diagonal_impl<2>(f, k, diag);
    case 3: return inverse_diagonal_impl<3>(f, k, diag);
    case 4: return inverse_diagonal_impl<4>(f, k, diag);
    default: return inverse_diagonal_impl<0>(f, k, diag);
  }
}

}  // namespace na64::waveform
