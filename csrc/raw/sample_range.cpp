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

void parity_span(const std::uint16_t* samples, std::int64_t n, std::int64_t width, const std::int64_t* nsamples,
                 std::int32_t* span) {
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t* row = samples + i * width;
    const std::int64_t m = std::clamp<std::int64_t>(nsamples[i], 0, width);
    std::uint16_t a[2] = {0xFFFF, 0xFFFF}, b[2] = {0, 0};
    for (std::int64_t k = 0; k < m; ++k) {
      a[k & 1] = std::min(a[k & 1], row[k]);
      b[k & 1] = std::max(b[k & 1], row[k]);
    }
    std::int32_t s = 0;
    for (int p = 0; p < 2; ++p)
      if (b[p] >= a[p]) s = std::max<std::int32_t>(s, b[p] - a[p]);
    span[i] = s;
  }
}

}  // namespace na64::raw
