#include "raw/address_lookup.hpp"

#include <algorithm>

namespace na64::raw {

void lookup_addresses(const std::int64_t* sorted_keys, std::int64_t n_keys, const std::uint16_t* source_id,
                      const std::uint8_t* port, const std::uint8_t* chip, const std::uint8_t* channel,
                      std::int64_t n, std::int64_t* out) {
  std::int64_t next = 0;  // the index after the previous hit
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t key = ((static_cast<std::int64_t>(source_id[i]) * 256 + port[i]) * 256 + chip[i]) * 256 + channel[i];
    std::int64_t at = -1;
    if (next < n_keys && sorted_keys[next] == key) {
      at = next;
    } else {
      const std::int64_t* p = std::lower_bound(sorted_keys, sorted_keys + n_keys, key);
      if (p != sorted_keys + n_keys && *p == key) at = p - sorted_keys;
    }
    out[i] = at;
    if (at >= 0) next = at + 1;
  }
}

}  // namespace na64::raw
