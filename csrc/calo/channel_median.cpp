#include "calo/channel_median.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "common/error.hpp"

namespace na64::calo {

void lowest_median_by_key(const std::int32_t* key, const std::int32_t* lowest, const std::int64_t* recorded,
                          std::int64_t n, const std::int32_t* query, std::int64_t n_query, std::int64_t min_waveforms,
                          double* out) {
  if (n_query == 0) return;
  std::int32_t key_min = -1, key_max = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    key_min = std::min(key_min, key[i]);
    key_max = std::max(key_max, key[i]);
  }
  for (std::int64_t q = 0; q < n_query; ++q) {
    key_min = std::min(key_min, query[q]);
    key_max = std::max(key_max, query[q]);
  }
  if (key_min < -1) throw InputError(concat("lowest_median_by_key: channel keys must be >= -1, got ", key_min));
  // slot of each key (shifted by one so that -1 is slot 0), -1 when not queried
  std::vector<std::int32_t> slot(static_cast<std::size_t>(key_max) + 2, -1);
  std::int32_t n_slots = 0;
  for (std::int64_t q = 0; q < n_query; ++q) {
    std::int32_t& s = slot[static_cast<std::size_t>(query[q] + 1)];
    if (s < 0) s = n_slots++;
  }
  // Value range and count per slot, then a histogram per slot (ADC values span a few
  // thousand counts at most): the median is a walk along the cumulative counts, with no
  // per-channel sort of tens of thousands of values.
  const auto ns = static_cast<std::size_t>(n_slots);
  std::vector<std::int32_t> lo(ns, std::numeric_limits<std::int32_t>::max()), hi(ns, std::numeric_limits<std::int32_t>::min());
  std::vector<std::int64_t> count(ns, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t s = slot[static_cast<std::size_t>(key[i] + 1)];
    if (s < 0 || recorded[i] <= 0) continue;
    const auto u = static_cast<std::size_t>(s);
    lo[u] = std::min(lo[u], lowest[i]);
    hi[u] = std::max(hi[u], lowest[i]);
    ++count[u];
  }
  std::vector<std::int64_t> offset(ns + 1, 0);
  for (std::size_t s = 0; s < ns; ++s)
    offset[s + 1] = offset[s] + (count[s] > 0 ? static_cast<std::int64_t>(hi[s]) - lo[s] + 1 : 0);
  std::vector<double> median(ns, std::numeric_limits<double>::infinity());
  if (offset[ns] <= std::max<std::int64_t>(4 * n, 1 << 22)) {
    std::vector<std::int64_t> hist(static_cast<std::size_t>(offset[ns]), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int32_t s = slot[static_cast<std::size_t>(key[i] + 1)];
      if (s < 0 || recorded[i] <= 0) continue;
      const auto u = static_cast<std::size_t>(s);
      ++hist[static_cast<std::size_t>(offset[u] + (lowest[i] - lo[u]))];
    }
    for (std::size_t s = 0; s < ns; ++s) {
      if (count[s] < std::max<std::int64_t>(min_waveforms, 1)) continue;
      const std::int64_t rank = (count[s] - 1) / 2;  // the lower median
      std::int64_t seen = 0;
      for (std::int64_t b = offset[s];; ++b) {
        seen += hist[static_cast<std::size_t>(b)];
        if (seen > rank) {
          median[s] = static_cast<double>(lo[s] + (b - offset[s]));
          break;
        }
      }
    }
  } else {  // values too spread for histograms: select within each slot's values
    std::vector<std::int64_t> start(ns + 1, 0);
    for (std::size_t s = 0; s < ns; ++s) start[s + 1] = start[s] + count[s];
    std::vector<std::int32_t> values(static_cast<std::size_t>(start[ns]));
    std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int32_t s = slot[static_cast<std::size_t>(key[i] + 1)];
      if (s >= 0 && recorded[i] > 0) values[static_cast<std::size_t>(fill[static_cast<std::size_t>(s)]++)] = lowest[i];
    }
    for (std::size_t s = 0; s < ns; ++s) {
      if (count[s] < std::max<std::int64_t>(min_waveforms, 1)) continue;
      auto first = values.begin() + start[s];
      auto mid = first + (count[s] - 1) / 2;
      std::nth_element(first, mid, values.begin() + start[s + 1]);
      median[s] = static_cast<double>(*mid);
    }
  }
  for (std::int64_t q = 0; q < n_query; ++q)
    out[q] = median[static_cast<std::size_t>(slot[static_cast<std::size_t>(query[q] + 1)])];
}

}  // namespace na64::calo
