// The raw writer's MSADC channel records (docs/raw-writer.md), packed straight into the
// free words of a chunk's word array: one pass instead of a chain of numpy temporaries.
#pragma once
#include <cstdint>

namespace na64::raw {

struct MsadcRecords {
  std::int64_t n_records = 0;
  std::int64_t width = 0;                 // columns of samples (samples past nsamples are ignored)
  const std::uint16_t* samples = nullptr; // [n_records * width], 0..4095
  const std::int64_t* nsamples = nullptr; // [n_records] 0..511, <= width
  const std::int64_t* sum = nullptr;      // [n_records] 16-bit channel sums
  const std::int64_t* channel = nullptr;  // [n_records] 4-bit channel ids
};

// Writes the records, in order, into the words whose `taken` flag is 0; the free words must
// be exactly as many as the records need. Throws InputError otherwise or on out-of-range fields.
void fill_msadc_records(const MsadcRecords& rec, std::uint32_t* words, const std::uint8_t* taken,
                        std::int64_t n_words);

}  // namespace na64::raw
