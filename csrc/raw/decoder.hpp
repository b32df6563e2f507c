// Resumable decoder of a buffer of concatenated DATE events into columnar batches.
// The buffer is borrowed: whoever owns it (RawBuffer) must outlive the decoder.
#pragma once
#include <cstddef>
#include <cstdint>

#include "raw/batch.hpp"
#include "raw/error_codes.hpp"
#include "raw/layout.hpp"

namespace na64::raw {

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : base_(data), size_(size) {}

  // Decodes up to `max_events` DATE events (rows of RawBatch::events) from the current
  // offset; bytes that hold no event (garbage, rejected headers) are skipped and reported.
  RawBatch next_batch(size_t max_events);

  uint64_t offset() const { return pos_; }
  // Number of DATE events decoded so far (the next event's `index`).
  int64_t events_decoded() const { return next_index_; }
  bool done() const { return pos_ >= size_; }
  void rewind() { pos_ = 0; next_index_ = 0; }

 private:
  uint32_t word(size_t byte_offset) const { return load_word(base_ + byte_offset); }
  bool valid_header_at(size_t pos) const;
  size_t find_header(size_t from, size_t limit) const;
  size_t find_header_of_other_event(size_t from, size_t limit, uint32_t id0, uint32_t id1) const;

  void decode_next_event();
  void skip_rejected_header(size_t pos, uint32_t size);
  void resync(size_t pos, size_t scan_from);
  void decode_subevents(size_t begin, size_t end, size_t parent);
  void decode_equipments(size_t begin, size_t end);
  void decode_slink(size_t begin, size_t nwords, bool inside_mux);
  void decode_msadc(size_t begin, size_t nwords, uint32_t source_id, uint32_t slink_event);
  void decode_f1(size_t begin, size_t nwords, uint32_t source_id);
  void widen_samples(size_t width);
  void reserve_like_last_batch(RawBatch& batch, size_t max_events) const;
  void remember_batch_shape(const RawBatch& batch, size_t bytes);

  // Records an error against the event being decoded (row -1 outside events).
  void error(ErrorCode code, size_t offset, int32_t source_id, int64_t value);

  static constexpr size_t kProbeEvents = 64;

  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
  int64_t next_index_ = 0;

  // Rows per event and bytes per event of the last batch: the next batch pre-sizes its
  // columns from them instead of growing (and copying) them.
  struct Shape {
    double bytes_per_event = 0, sadc_per_event = 0, tdc_per_event = 0, errors_per_event = 0;
    size_t sample_width = 0;
  } last_shape_;

  // State of the batch and event being decoded.
  RawBatch* out_ = nullptr;
  int64_t row_ = -1;
  uint32_t event_in_spill_ = 0;
};

}  // namespace na64::raw
