#include "raw/sample_range.hpp"

#include <algorithm>

namespace na64::raw {

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
