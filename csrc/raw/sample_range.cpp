#include "raw/sample_range.hpp"

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace na64::raw {

namespace {

#if defined(__SSE2__)
// A full row of 32 samples with SSE2: the samples biased by 0x8000 so that the signed 16-bit
// minimum and maximum (SSE2 has no unsigned ones) order them as unsigned; even samples are
// the even lanes of every vector (a vector holds 8 samples, an even count).
inline void parity_span32(const std::uint16_t* row, std::int32_t& span, std::int32_t& lowest) {
  const __m128i bias = _mm_set1_epi16(static_cast<short>(0x8000));
  const __m128i* v = reinterpret_cast<const __m128i*>(row);
  __m128i x0 = _mm_xor_si128(_mm_loadu_si128(v), bias), x1 = _mm_xor_si128(_mm_loadu_si128(v + 1), bias);
  __m128i x2 = _mm_xor_si128(_mm_loadu_si128(v + 2), bias), x3 = _mm_xor_si128(_mm_loadu_si128(v + 3), bias);
  __m128i lo = _mm_min_epi16(_mm_min_epi16(x0, x1), _mm_min_epi16(x2, x3));
  __m128i hi = _mm_max_epi16(_mm_max_epi16(x0, x1), _mm_max_epi16(x2, x3));
  // lanes 0..7 alternate even, odd: fold 32-bit pairs (even, odd) together by halves
  lo = _mm_min_epi16(lo, _mm_shuffle_epi32(lo, _MM_SHUFFLE(1, 0, 3, 2)));
  lo = _mm_min_epi16(lo, _mm_shuffle_epi32(lo, _MM_SHUFFLE(2, 3, 0, 1)));
  hi = _mm_max_epi16(hi, _mm_shuffle_epi32(hi, _MM_SHUFFLE(1, 0, 3, 2)));
  hi = _mm_max_epi16(hi, _mm_shuffle_epi32(hi, _MM_SHUFFLE(2, 3, 0, 1)));
  const std::int32_t lo_even = static_cast<std::uint16_t>(_mm_extract_epi16(lo, 0) ^ 0x8000);
  const std::int32_t lo_odd = static_cast<std::uint16_t>(_mm_extract_epi16(lo, 1) ^ 0x8000);
  const std::int32_t hi_even = static_cast<std::uint16_t>(_mm_extract_epi16(hi, 0) ^ 0x8000);
  const std::int32_t hi_odd = static_cast<std::uint16_t>(_mm_extract_epi16(hi, 1) ^ 0x8000);
  span = std::max(hi_even - lo_even, hi_odd - lo_odd);
  lowest = std::min(lo_even, lo_odd);
}
#endif

}  // namespace

void sample_range(const std::uint16_t* samples, std::int64_t n, std::int64_t width, const std::int64_t* nsamples,
                  std::int32_t* lo, std::int32_t* hi) {
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t* row = samples + i * width;
    const std::int64_t m = std::clamp<std::int64_t>(nsamples[i], 0, width);
    if (m == 0) {
      lo[i] = hi[i] = 0;
      continue;
    }
    // plain loops over a short row: the compiler vectorises both reductions
    std::uint16_t a = 0xFFFF, b = 0;
    for (std::int64_t k = 0; k < m; ++k) {
      a = std::min(a, row[k]);
      b = std::max(b, row[k]);
    }
    lo[i] = a;
    hi[i] = b;
  }
}

template <typename Count>
void parity_span(const std::uint16_t* samples, std::int64_t n, std::int64_t width, const Count* nsamples,
                 std::int32_t* span, std::int32_t* lowest) {
  // Lane-wise extremes over blocks of 16 samples (one vector operation each, the lanes keep
  // their parity since 16 is even), then even lanes and odd lanes reduced apart: indexing
  // the extremes by k & 1 sample by sample made this the slowest step of the fit stage.
  constexpr int kLanes = 16;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t* row = samples + i * width;
    const std::int64_t m = std::clamp<std::int64_t>(static_cast<std::int64_t>(nsamples[i]), 0, width);
#if defined(__SSE2__)
    if (m == 32) {  // the common case, every sample of a 32-sample row recorded
      std::int32_t least;
      parity_span32(row, span[i], least);
      if (lowest != nullptr) lowest[i] = least;
      continue;
    }
#endif
    std::uint16_t lo[kLanes], hi[kLanes];
    for (int j = 0; j < kLanes; ++j) {
      lo[j] = 0xFFFF;
      hi[j] = 0;
    }
    std::int64_t c = 0;
    for (; c + kLanes <= m; c += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        lo[j] = std::min(lo[j], row[c + j]);
        hi[j] = std::max(hi[j], row[c + j]);
      }
    for (std::int64_t k = c; k < m; ++k) {
      lo[k - c] = std::min(lo[k - c], row[k]);
      hi[k - c] = std::max(hi[k - c], row[k]);
    }
    std::int32_t s = 0;
    std::uint16_t least = 0xFFFF;
    for (int p = 0; p < 2; ++p) {
      std::uint16_t a = 0xFFFF, b = 0;
      for (int j = p; j < kLanes; j += 2) {
        a = std::min(a, lo[j]);
        b = std::max(b, hi[j]);
      }
      if (b >= a) s = std::max<std::int32_t>(s, b - a);
      least = std::min(least, a);
    }
    span[i] = s;
    if (lowest != nullptr) lowest[i] = m > 0 ? least : 0;
  }
}

template void parity_span<std::int64_t>(const std::uint16_t*, std::int64_t, std::int64_t, const std::int64_t*,
                                        std::int32_t*, std::int32_t*);
template void parity_span<std::uint16_t>(const std::uint16_t*, std::int64_t, std::int64_t, const std::uint16_t*,
                                         std::int32_t*, std::int32_t*);

}  // namespace na64::raw
