#include "raw/address_lookup.hpp"

#include <algorithm>
#include <cstring>

#include "common/error.hpp"

namespace na64::raw {

namespace {

// Index into sorted_keys of digits [begin, end), -1 where absent; `next` carries the index
// after the previous hit from call to call (readout order follows the map's order).
template <typename Index>
void lookup_range(const std::int64_t* sorted_keys, std::int64_t n_keys, const std::uint16_t* source_id,
                  const std::uint8_t* port, const std::uint8_t* chip, const std::uint8_t* channel, std::int64_t begin,
                  std::int64_t end, std::int64_t& next, Index* out) {
  for (std::int64_t i = begin; i < end; ++i) {
    const std::int64_t key = ((static_cast<std::int64_t>(source_id[i]) * 256 + port[i]) * 256 + chip[i]) * 256 + channel[i];
    std::int64_t at = -1;
    if (next < n_keys && sorted_keys[next] == key) {
      at = next;
    } else {
      const std::int64_t* p = std::lower_bound(sorted_keys, sorted_keys + n_keys, key);
      if (p != sorted_keys + n_keys && *p == key) at = p - sorted_keys;
    }
    out[i - begin] = static_cast<Index>(at);
    if (at >= 0) next = at + 1;
  }
}

template <typename T>
void gather(const void* by_key, const std::int64_t* at, std::int64_t count, void* out) {
  const T* table = static_cast<const T*>(by_key);
  T* dst = static_cast<T*>(out);
  for (std::int64_t i = 0; i < count; ++i) dst[i] = table[at[i]];
}

}  // namespace

void lookup_addresses(const std::int64_t* sorted_keys, std::int64_t n_keys, const std::uint16_t* source_id,
                      const std::uint8_t* port, const std::uint8_t* chip, const std::uint8_t* channel,
                      std::int64_t n, std::int64_t* out) {
  std::int64_t next = 0;
  lookup_range(sorted_keys, n_keys, source_id, port, chip, channel, 0, n, next, out);
}

void annotate_by_key(const std::int64_t* sorted_keys, std::int64_t n_keys, const std::uint16_t* source_id,
                     const std::uint8_t* port, const std::uint8_t* chip, const std::uint8_t* channel, std::int64_t n,
                     const KeyedColumn* columns, int n_columns) {
  for (int c = 0; c < n_columns; ++c) {
    const int size = columns[c].itemsize;
    if (size != 1 && size != 2 && size != 4 && size != 8)
      throw InputError(concat("annotate_by_key: column ", c, " has items of ", size, " bytes, expected 1, 2, 4 or 8"));
  }
  constexpr std::int64_t kBlock = 2048;  // key indices of a block stay in the L1 cache
  std::int64_t at[kBlock];
  std::int64_t next = 0;
  for (std::int64_t b = 0; b < n; b += kBlock) {
    const std::int64_t e = std::min(n, b + kBlock);
    lookup_range(sorted_keys, n_keys, source_id, port, chip, channel, b, e, next, at);
    for (std::int64_t i = 0; i < e - b; ++i)
      if (at[i] < 0) at[i] = n_keys;  // the appended "not in the map" entry
    for (int c = 0; c < n_columns; ++c) {
      const KeyedColumn& col = columns[c];
      char* out = static_cast<char*>(col.out) + b * col.itemsize;
      switch (col.itemsize) {
        case 1: gather<std::uint8_t>(col.by_key, at, e - b, out); break;
        case 2: gather<std::uint16_t>(col.by_key, at, e - b, out); break;
        case 4: gather<std::uint32_t>(col.by_key, at, e - b, out); break;
        default: gather<std::uint64_t>(col.by_key, at, e - b, out); break;
      }
    }
  }
}

}  // namespace na64::raw
