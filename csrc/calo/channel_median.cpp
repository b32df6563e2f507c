#include "calo/channel_median.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "common/error.hpp"

namespace na64::calo {

namespace {

// 12-bit ADC values: one histogram of this many bins per queried channel.
constexpr std::int32_t kAdcBins = 4096;

// The lower median of each slot from its histogram (bins starting at value `lo`).
double median_of(const std::int64_t* hist, std::int64_t bins, std::int64_t count, std::int64_t lo,
                 std::int64_t min_waveforms) {
  if (count < std::max<std::int64_t>(min_waveforms, 1)) return std::numeric_limits<double>::infinity();
  const std::int64_t rank = (count - 1) / 2;
  std::int64_t seen = 0;
  for (std::int64_t b = 0; b < bins; ++b) {
    seen += hist[b];
    if (seen > rank) return static_cast<double>(lo + b);
  }
  return std::numeric_limits<double>::infinity();  // not reached: the counts add up to count
}

}  // namespace

template <typename Count>
void lowest_median_by_key(const std::int32_t* key, const std::int32_t* lowest, const Count* recorded, std::int64_t n,
                          const std::int32_t* query, std::int64_t n_query, std::int64_t min_waveforms, double* out) {
  if (n_query == 0) return;
  std::int32_t query_max = -1;
  for (std::int64_t q = 0; q < n_query; ++q) {
    if (query[q] < -1) throw InputError(concat("lowest_median_by_key: channel keys must be >= -1, got ", query[q]));
    query_max = std::max(query_max, query[q]);
  }
  // slot of each queried key (shifted by one so that -1 is slot 0); digits of keys above the
  // largest query cannot matter and are skipped without a lookup
  std::vector<std::int32_t> slot(static_cast<std::size_t>(query_max) + 2, -1);
  std::int32_t n_slots = 0;
  for (std::int64_t q = 0; q < n_query; ++q) {
    std::int32_t& s = slot[static_cast<std::size_t>(query[q] + 1)];
    if (s < 0) s = n_slots++;
  }
  const auto ns = static_cast<std::size_t>(n_slots);
  std::vector<double> median(ns, std::numeric_limits<double>::infinity());
  // One pass: a 12-bit histogram per queried channel (the channels of a batch's doubtful
  // fits are few). A value outside 0..4095 sends the batch to the general two passes below.
  std::vector<std::int64_t> hist(ns * kAdcBins, 0), count(ns, 0);
  bool in_range = true;
  std::int32_t bad_key = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t k = key[i];
    if (k > query_max) continue;
    if (k < -1) {
      bad_key = k;
      break;
    }
    const std::int32_t s = slot[static_cast<std::size_t>(k + 1)];
    if (s < 0 || recorded[i] <= 0) continue;
    const std::int32_t v = lowest[i];
    if (v < 0 || v >= kAdcBins) {
      in_range = false;
      continue;
    }
    ++hist[static_cast<std::size_t>(s) * kAdcBins + static_cast<std::size_t>(v)];
    ++count[static_cast<std::size_t>(s)];
  }
  if (bad_key < -1) throw InputError(concat("lowest_median_by_key: channel keys must be >= -1, got ", bad_key));
  if (in_range) {
    for (std::size_t s = 0; s < ns; ++s) median[s] = median_of(&hist[s * kAdcBins], kAdcBins, count[s], 0, min_waveforms);
  } else {
    // Wider values: the range of each slot first, then a histogram over just that range.
    std::vector<std::int32_t> lo(ns, std::numeric_limits<std::int32_t>::max()), hi(ns, std::numeric_limits<std::int32_t>::min());
    std::fill(count.begin(), count.end(), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      if (key[i] > query_max) continue;
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
    std::vector<std::int64_t> wide(static_cast<std::size_t>(offset[ns]), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      if (key[i] > query_max) continue;
      const std::int32_t s = slot[static_cast<std::size_t>(key[i] + 1)];
      if (s < 0 || recorded[i] <= 0) continue;
      const auto u = static_cast<std::size_t>(s);
      ++wide[static_cast<std::size_t>(offset[u] + (lowest[i] - lo[u]))];
    }
    for (std::size_t s = 0; s < ns; ++s)
      median[s] = median_of(wide.data() + offset[s], offset[s + 1] - offset[s], count[s], lo[s], min_waveforms);
  }
  for (std::int64_t q = 0; q < n_query; ++q)
    out[q] = median[static_cast<std::size_t>(slot[static_cast<std::size_t>(query[q] + 1)])];
}

template void lowest_median_by_key<std::int64_t>(const std::int32_t*, const std::int32_t*, const std::int64_t*,
                                                 std::int64_t, const std::int32_t*, std::int64_t, std::int64_t, double*);
template void lowest_median_by_key<std::uint16_t>(const std::int32_t*, const std::int32_t*, const std::uint16_t*,
                                                  std::int64_t, const std::int32_t*, std::int64_t, std::int64_t, double*);

}  // namespace na64::calo
