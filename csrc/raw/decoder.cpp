// DATE event framing: event headers, resynchronisation, super events, equipments and
// S-Link blocks. Chip payloads (MSADC, F1) are in chip_data.cpp.
#include "raw/decoder.hpp"

#include <algorithm>

#include "raw/layout.hpp"

namespace na64::raw {

void Decoder::error(ErrorCode code, size_t offset, int32_t source_id, int64_t value) {
  ErrorTable& e = out_->errors;
  e.event.push_back(row_);
  e.offset.push_back(offset);
  e.source_id.push_back(source_id);
  e.code.push_back(static_cast<uint16_t>(code));
  e.value.push_back(value);
  if (row_ >= 0) out_->events.nerrors[static_cast<size_t>(row_)] += 1;
}

bool Decoder::valid_header_at(size_t pos) const {
  if (pos > size_ || size_ - pos < date::kHeaderBytes) return false;
  if (word(pos + date::kMagicWord) != date::kMagic) return false;
  const uint32_t size = word(pos + date::kSize);
  return word(pos + date::kHeadLen) == date::kHeaderBytes &&
         word(pos + date::kVersion) >= date::kMinVersion && size >= date::kHeaderBytes &&
         size % 4 == 0;
}

// First valid header at 4-byte steps in [from, limit), or size_ when there is none.
size_t Decoder::find_header(size_t from, size_t limit) const {
  for (size_t q = from; q < limit && size_ - q >= date::kHeaderBytes; q += 4) {
    if (word(q + date::kMagicWord) == date::kMagic && valid_header_at(q)) return q;
  }
  return size_;
}

// Like find_header, but ignores headers with the given event ids: inside a super event
// the sub-event headers repeat the parent's ids and are not a next event.
size_t Decoder::find_header_of_other_event(size_t from, size_t limit, uint32_t id0,
                                           uint32_t id1) const {
  for (size_t q = find_header(from, limit); q < limit && q < size_; q = find_header(q + 4, limit)) {
    if (word(q + date::kEventId0) != id0 || word(q + date::kEventId1) != id1) return q;
  }
  return size_;
}

RawBatch Decoder::next_batch(size_t max_events) {
  RawBatch batch;
  const size_t start = pos_;
  out_ = &batch;
  row_ = -1;
  if (last_shape_.bytes_per_event <= 0 && max_events > 2 * kProbeEvents) {
    // No earlier batch to size this one from: learn the shape on the first events.
    while (pos_ < size_ && batch.events.rows() < kProbeEvents) decode_next_event();
    remember_batch_shape(batch, pos_ - start);
  }
  reserve_like_last_batch(batch, max_events);
  while (pos_ < size_ && batch.events.rows() < max_events) decode_next_event();
  out_ = nullptr;
  row_ = -1;
  remember_batch_shape(batch, pos_ - start);
  return batch;
}

void Decoder::reserve_like_last_batch(RawBatch& b, size_t max_events) const {
  if (last_shape_.bytes_per_event <= 0) return;
  // Capacity for the rows already there plus the events still to come in this batch.
  const double left_events = static_cast<double>(size_ - pos_) / last_shape_.bytes_per_event;
  const double more = static_cast<double>(max_events - b.events.rows());
  const double events = static_cast<double>(b.events.rows()) + std::min(more, left_events) * 1.02 + 16;
  const auto rows = [events](double per_event) { return static_cast<size_t>(events * per_event) + 16; };
  // (reserve() never shrinks, so rows already decoded are kept whatever the estimate.)
  const size_t nev = rows(1);
  b.events.index.reserve(nev), b.events.offset.reserve(nev), b.events.size.reserve(nev);
  b.events.run.reserve(nev), b.events.spill.reserve(nev), b.events.event_in_run.reserve(nev);
  b.events.event_in_spill.reserve(nev), b.events.type.reserve(nev), b.events.trigger_mask.reserve(nev);
  b.events.time.reserve(nev), b.events.nerrors.reserve(nev);
  const size_t ns = rows(last_shape_.sadc_per_event);
  b.sadc.event.reserve(ns), b.sadc.source_id.reserve(ns), b.sadc.port.reserve(ns), b.sadc.chip.reserve(ns);
  b.sadc.channel.reserve(ns), b.sadc.nsamples.reserve(ns), b.sadc.sum.reserve(ns);
  b.sadc.samples.reserve(ns * std::max(last_shape_.sample_width, msadc::kMinSampleWidth));
  const size_t nt = rows(last_shape_.tdc_per_event);
  b.tdc.event.reserve(nt), b.tdc.source_id.reserve(nt), b.tdc.port.reserve(nt), b.tdc.chip.reserve(nt);
  b.tdc.channel.reserve(nt), b.tdc.raw_time.reserve(nt), b.tdc.trigger_time.reserve(nt);
  b.tdc.time_bins.reserve(nt), b.tdc.time_ns.reserve(nt);
  const size_t ne = rows(last_shape_.errors_per_event);
  b.errors.event.reserve(ne), b.errors.offset.reserve(ne), b.errors.source_id.reserve(ne);
  b.errors.code.reserve(ne), b.errors.value.reserve(ne);
}

void Decoder::remember_batch_shape(const RawBatch& b, size_t bytes) {
  const size_t n = b.events.rows();
  if (n == 0) return;
  const auto per_event = [n](size_t rows) { return static_cast<double>(rows) / static_cast<double>(n); };
  last_shape_.bytes_per_event = per_event(bytes);
  last_shape_.sadc_per_event = per_event(b.sadc.rows());
  last_shape_.tdc_per_event = per_event(b.tdc.rows());
  last_shape_.errors_per_event = per_event(b.errors.rows());
  last_shape_.sample_width = b.sadc.width;
}

void Decoder::resync(size_t pos, size_t scan_from) {
  const size_t next = find_header(scan_from, size_);
  error(ErrorCode::kBytesSkipped, pos, -1, static_cast<int64_t>(next - pos));
  pos_ = next;
}

// A header we cannot decode still tells where the event ends, if its size leads exactly
// to the end of the file or to another valid header; otherwise scan.
void Decoder::skip_rejected_header(size_t pos, uint32_t size) {
  const size_t end = pos + size;
  if (size >= date::kHeaderBytes && size % 4 == 0 && end <= size_ &&
      (end == size_ || valid_header_at(end))) {
    error(ErrorCode::kBytesSkipped, pos, -1, static_cast<int64_t>(size));
    pos_ = end;
  } else {
    resync(pos, pos + 4);
  }
}

void Decoder::decode_next_event() {
  const size_t pos = pos_;
  const size_t left = size_ - pos;
  row_ = -1;
  if (left >= 8 && word(pos + date::kMagicWord) != date::kMagic) {
    const uint32_t magic = word(pos + date::kMagicWord);
    if (magic == date::kMagicSwapped) error(ErrorCode::kByteSwapped, pos, -1, magic);
    resync(pos, pos + 4);
    return;
  }
  if (left < date::kHeaderBytes) {
    error(ErrorCode::kTruncatedHeader, pos, -1, static_cast<int64_t>(left));
    pos_ = size_;
    return;
  }
  const uint32_t size = word(pos + date::kSize);
  const uint32_t head_len = word(pos + date::kHeadLen);
  const uint32_t version = word(pos + date::kVersion);
  const uint32_t type_word = word(pos + date::kType);
  if (head_len != date::kHeaderBytes) {
    error(ErrorCode::kBadHeaderLength, pos + date::kHeadLen, -1, head_len);
    return skip_rejected_header(pos, size);
  }
  if (version < date::kMinVersion) {
    error(ErrorCode::kBadVersion, pos + date::kVersion, -1, version);
    return skip_rejected_header(pos, size);
  }
  if (type_word & date::kTypeSwappedFlag) {
    error(ErrorCode::kByteSwapped, pos + date::kType, -1, type_word);
    return skip_rejected_header(pos, size);
  }
  if (size == 0) {
    error(ErrorCode::kEventSizeZero, pos, -1, 0);
    return resync(pos, pos + 4);
  }
  if (size < date::kHeaderBytes || size % 4 != 0) {
    error(ErrorCode::kEventSizeInvalid, pos, -1, size);
    return resync(pos, pos + 4);
  }

  const uint32_t id0 = word(pos + date::kEventId0);
  const uint32_t id1 = word(pos + date::kEventId1);
  size_t end = pos + size;
  ErrorCode cut_code = ErrorCode::kEventTruncated;
  size_t cut = 0;
  // Cheap check first: an intact event ends at the file end or at the next header.
  if (end > size_ || (end < size_ && !valid_header_at(end))) {
    const size_t limit = std::min(end, size_);
    const size_t next = find_header_of_other_event(pos + date::kHeaderBytes, limit, id0, id1);
    if (next < limit) {
      cut_code = ErrorCode::kEventOverrunsNext;
      cut = end - next;
      end = next;
    } else if (end > size_) {
      cut = end - size_;
      end = size_;
    }
  }

  EventTable& ev = out_->events;
  const uint32_t type = type_word & date::kTypeMask;
  const uint32_t tp0 = word(pos + date::kTrigger0);
  const uint32_t tp1 = word(pos + date::kTrigger1);
  row_ = static_cast<int64_t>(ev.rows());
  ev.index.push_back(next_index_++);
  ev.offset.push_back(pos);
  ev.size.push_back(size);
  ev.run.push_back(word(pos + date::kRun));
  ev.spill.push_back(bits(id1, 20, 12));
  ev.event_in_run.push_back(id0);
  ev.event_in_spill.push_back(bits(id1, 0, 20));
  ev.type.push_back(static_cast<uint16_t>(type));
  ev.trigger_mask.push_back((uint64_t{tp0} >> 1) + (uint64_t{tp1} << 31));
  ev.time.push_back(word(pos + date::kTime));
  ev.nerrors.push_back(0);
  event_in_spill_ = bits(id1, 0, 20);
  if (cut) error(cut_code, end, -1, static_cast<int64_t>(cut));

  if (date::carries_equipment(type)) {
    if (word(pos + date::kTypeAttr2) & date::kSuperEventBit) {
      decode_subevents(pos + date::kHeaderBytes, end, pos);
    } else {
      decode_equipments(pos + date::kHeaderBytes, end);
    }
  }
  pos_ = end;
  row_ = -1;
}

void Decoder::decode_subevents(size_t begin, size_t end, size_t parent) {
  size_t p = begin;
  while (p < end) {
    if (end - p < date::kHeaderBytes) {
      error(ErrorCode::kSubeventOutsideParent, p, -1, static_cast<int64_t>(end - p));
      return;
    }
    const uint32_t magic = word(p + date::kMagicWord);
    if (magic != date::kMagic) return error(ErrorCode::kBadMagic, p + date::kMagicWord, -1, magic);
    const uint32_t head_len = word(p + date::kHeadLen);
    if (head_len != date::kHeaderBytes)
      return error(ErrorCode::kBadHeaderLength, p + date::kHeadLen, -1, head_len);
    const uint32_t version = word(p + date::kVersion);
    if (version < date::kMinVersion) return error(ErrorCode::kBadVersion, p + date::kVersion, -1, version);
    const uint32_t size = word(p);
    if (size == 0) return error(ErrorCode::kEventSizeZero, p, -1, 0);
    if (size < date::kHeaderBytes || size % 4 != 0)
      return error(ErrorCode::kEventSizeInvalid, p, -1, size);
    if (size > end - p) return error(ErrorCode::kSubeventOutsideParent, p, -1, size);
    if (word(p + date::kRun) != word(parent + date::kRun) ||
        word(p + date::kEventId0) != word(parent + date::kEventId0) ||
        word(p + date::kEventId1) != word(parent + date::kEventId1)) {
      error(ErrorCode::kSubeventMismatch, p, -1, word(p + date::kEventId0));
    } else {
      decode_equipments(p + date::kHeaderBytes, p + size);
    }
    p += size;
  }
}

void Decoder::decode_equipments(size_t begin, size_t end) {
  size_t p = begin;
  while (p < end) {
    if (end - p < equipment::kHeaderBytes) {
      error(ErrorCode::kEquipmentOutsideEvent, p, -1, static_cast<int64_t>(end - p));
      return;
    }
    const uint32_t size = word(p);
    if (size % 4 != 0) return error(ErrorCode::kEquipmentSizeNotMultipleOf4, p, -1, size);
    if (size < equipment::kHeaderBytes) return error(ErrorCode::kEquipmentSizeTooSmall, p, -1, size);
    if (size > end - p) return error(ErrorCode::kEquipmentOutsideEvent, p, -1, size);
    const uint32_t type = word(p + 4);
    if (type != equipment::kTypeSlink) {
      error(ErrorCode::kUnknownEquipmentType, p + 4, -1, type);
    } else {
      const size_t payload = p + equipment::kHeaderBytes;
      const size_t nwords = (size - equipment::kHeaderBytes) / 4;
      if (nwords == 0) {
        error(ErrorCode::kSlinkSizeTooSmall, payload, -1, 0);
      } else {
        const uint32_t w0 = word(payload);
        if (slink::event_size(w0) != nwords) {
          error(ErrorCode::kEquipmentSlinkSizeMismatch, payload, static_cast<int32_t>(slink::source_id(w0)),
                slink::event_size(w0));
        } else {
          decode_slink(payload, nwords, false);
        }
      }
    }
    p += size;
  }
}

// An S-Link block of `nwords` words (its event_size, already checked against its container).
void Decoder::decode_slink(size_t begin, size_t nwords, bool inside_mux) {
  const uint32_t w0 = word(begin);
  const uint32_t source = slink::source_id(w0);
  const int32_t src = static_cast<int32_t>(source);
  const bool mux = !inside_mux && source >= slink::kMuxSourceIdMin;
  const size_t header_words = mux ? slink::kMuxHeaderWords : slink::kHeaderWords;
  if (nwords < header_words) return error(ErrorCode::kSlinkSizeTooSmall, begin, src, static_cast<int64_t>(nwords));
  const uint32_t event_number = slink::event_number(word(begin + 4));
  if (event_number != event_in_spill_) return error(ErrorCode::kSlinkEventMismatch, begin + 4, src, event_number);
  if (mux) {
    size_t q = header_words;
    while (q < nwords) {
      const size_t at = begin + 4 * q;
      const uint32_t sub_size = slink::event_size(word(at));
      const int32_t sub_src = static_cast<int32_t>(slink::source_id(word(at)));
      if (sub_size == 0) return error(ErrorCode::kMuxZeroSize, at, sub_src, 0);
      if (sub_size > nwords - q) return error(ErrorCode::kMuxSizeMismatch, at, sub_src, sub_size);
      decode_slink(at, sub_size, true);
      q += sub_size;
    }
    return;
  }
  const size_t data = begin + 4 * slink::kHeaderWords;
  const size_t ndata = nwords - slink::kHeaderWords;
  if (ndata == 0) return;  // a source with nothing to say in this event
  uint32_t format = slink::data_format(word(begin + 8));
  if (format == slink::kFormatUnspecified) format = slink::infer_format(word(data));
  switch (format) {
    case slink::kFormatMsadc: return decode_msadc(data, ndata, source, event_number);
    case slink::kFormatF1: return decode_f1(data, ndata, source);
    default: return error(ErrorCode::kUnknownDataFormat, begin + 8, src, format);
  }
}

}  // namespace na64::raw
