// Scans of one window that run on every fit: the clean-window check, the residual-bump
// prefilter of the pile-up search and the start-time extremes. Inline (they sit in the
// per-window loop) with SSE2 where the compiler offers it and plain loops elsewhere; both
// give the same answers.
#pragma once
#include <cmath>
#include <limits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace na64::waveform::scan {

// Every sample finite and below saturation. Two samples per step with SSE2 where available:
// this check runs on every window, and the scalar loop was a tenth of the instructions of a
// clean single-pulse fit.
inline bool all_below(const double* raw, int n, double saturation) {
  const double lowest = -std::numeric_limits<double>::infinity();
  int k = 0;
  bool clean = true;
#if defined(__SSE2__)
  const __m128d sat = _mm_set1_pd(saturation), low = _mm_set1_pd(lowest);
  __m128d ok = _mm_cmpeq_pd(sat, sat);  // all bits set (saturation is not NaN)
  for (; k + 2 <= n; k += 2) {
    const __m128d v = _mm_loadu_pd(raw + k);
    ok = _mm_and_pd(ok, _mm_and_pd(_mm_cmplt_pd(v, sat), _mm_cmpgt_pd(v, low)));
  }
  clean = _mm_movemask_pd(ok) == 3;
#endif
  for (; k < n; ++k) clean = clean && raw[k] < saturation && raw[k] > lowest;
  return clean;
}

// Some two neighbouring residuals sum to more than limit (two sums per step with SSE2).
inline bool residual_bump(const double* r, int n, double limit) {
  int k = 0;
  bool bump = false;
#if defined(__SSE2__)
  const __m128d lim = _mm_set1_pd(limit);
  __m128d any = _mm_setzero_pd();
  for (; k + 3 <= n; k += 2)  // the sums starting at k and k + 1
    any = _mm_or_pd(any, _mm_cmpgt_pd(_mm_add_pd(_mm_loadu_pd(r + k), _mm_loadu_pd(r + k + 1)), lim));
  bump = _mm_movemask_pd(any) != 0;
#endif
  for (; k + 1 < n; ++k) bump = bump || r[k] + r[k + 1] > limit;
  return bump;
}

// kmin as left by extremes_packed: a minimum exists, its index is looked up when needed.
constexpr int kFirstUnknown = -2;

// First k with y[k] - base[k % 2] == value (one exists).
inline int first_equal(const double* y, int n, const double base[2], double value) {
  int k = 0;
  while (k + 1 < n && !(y[k] - base[k & 1] == value)) ++k;
  return k;
}

// The first strict maximum and the minimum of y[k] - base[k % 2] as the sample-by-sample
// loop of fit_one finds them (values above -1e300 / below 1e300, kmax = -1 / kmin = -1 when
// none), for a window with nothing masked. With SSE2, even-odd pairs: packed max / min (no
// chain of dependent compare-and-selects) and the first sample equal to the maximum from a
// bit mask (no data-dependent branch); the minimum's index is left as kFirstUnknown for
// first_equal(), as it is needed only for a negative pulse. Returns false (nothing done) when
// it does not apply: no SSE2, an odd window, a base that is not finite (a NaN difference
// would make the packed max depend on the order).
inline bool extremes_packed(const double* y, int n, const double base[2], int& kmax, double& ymax, int& kmin,
                     double& ymin) {
#if defined(__SSE2__)
  if (n % 2 != 0 || n < 4 || n > 64 || !std::isfinite(base[0]) || !std::isfinite(base[1])) return false;
  const __m128d b = _mm_set_pd(base[1], base[0]);
  __m128d hi0 = _mm_sub_pd(_mm_loadu_pd(y), b), hi1 = _mm_sub_pd(_mm_loadu_pd(y + 2), b);
  __m128d lo0 = hi0, lo1 = hi1;
  int k = 4;
  for (; k + 4 <= n; k += 4) {
    const __m128d v0 = _mm_sub_pd(_mm_loadu_pd(y + k), b), v1 = _mm_sub_pd(_mm_loadu_pd(y + k + 2), b);
    hi0 = _mm_max_pd(hi0, v0);
    hi1 = _mm_max_pd(hi1, v1);
    lo0 = _mm_min_pd(lo0, v0);
    lo1 = _mm_min_pd(lo1, v1);
  }
  if (k < n) {  // n = 2 (mod 4): the last pair
    const __m128d v = _mm_sub_pd(_mm_loadu_pd(y + k), b);
    hi0 = _mm_max_pd(hi0, v);
    lo0 = _mm_min_pd(lo0, v);
  }
  const __m128d hi = _mm_max_pd(hi0, hi1), lo = _mm_min_pd(lo0, lo1);
  const double top = std::max(_mm_cvtsd_f64(hi), _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi)));
  const double bottom = std::min(_mm_cvtsd_f64(lo), _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo)));
  kmax = -1;
  ymax = -1e300;
  if (top > -1e300) {
    const __m128d t = _mm_set1_pd(top);
    uint64_t at_top = 0;
    for (k = 0; k < n; k += 2)
      at_top |= static_cast<uint64_t>(_mm_movemask_pd(_mm_cmpeq_pd(_mm_sub_pd(_mm_loadu_pd(y + k), b), t))) << k;
    kmax = __builtin_ctzll(at_top);
    ymax = y[kmax] - base[kmax & 1];  // the first one's own value (+0 or -0)
  }
  kmin = -1;
  ymin = 1e300;
  if (bottom < 1e300) {
    kmin = kFirstUnknown;
    ymin = bottom;
  }
  return true;
#else
  (void)y, (void)n, (void)base, (void)kmax, (void)ymax, (void)kmin, (void)ymin;
  return false;
#endif
}

}  // namespace na64::waveform::scan
