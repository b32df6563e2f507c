// Readout address -> map row for decoded digits: the detector annotation of every digit of
// a batch. The key packs (source_id, port, chip, channel) as the Python side's address_key
// does; the map's keys are sorted. Digits arrive in readout order, which is the map's order
// for consecutive channels of one chip, so the row after the previous digit's is tried
// before a binary search.
#pragma once
#include <cstdint>

namespace na64::raw {

// out[i]: the index into sorted_keys of digit i's address, -1 when the map lacks it.
void lookup_addresses(const std::int64_t* sorted_keys, std::int64_t n_keys, const std::uint16_t* source_id,
                      const std::uint8_t* port, const std::uint8_t* chip, const std::uint8_t* channel,
                      std::int64_t n, std::int64_t* out);

// A per-key column for annotate_by_key: n_keys + 1 values (the last one for an address the
// map lacks) of itemsize bytes (1, 2, 4 or 8), and the per-digit output.
struct KeyedColumn {
  const void* by_key;
  void* out;
  int itemsize;
};

// For each digit: its address's entry of every column (the appended one when the map lacks
// it): the lookup and the gathers in one pass over blocks of digits, with no per-digit index
// array between them (the annotation of every digit of a batch; InputError for an itemsize
// other than 1, 2, 4, 8).
void annotate_by_key(const std::int64_t* sorted_keys, std::int64_t n_keys, const std::uint16_t* source_id,
                     const std::uint8_t* port, const std::uint8_t* chip, const std::uint8_t* channel, std::int64_t n,
                     const KeyedColumn* columns, int n_columns);

}  // namespace na64::raw
