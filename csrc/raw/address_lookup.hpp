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

}  // namespace na64::raw
