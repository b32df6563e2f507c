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

}  // namespace na64::raw
