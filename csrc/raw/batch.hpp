// Columnar output of the raw decoder: the four tables of docs/data-model.md.
#pragma once
#include <cstdint>

#include "raw/column.hpp"

namespace na64::raw {

struct EventTable {
  Column<int64_t> index;
  Column<uint64_t> offset;
  Column<uint32_t> size;
  Column<uint32_t> run;
  Column<uint32_t> spill;
  Column<uint32_t> event_in_run;
  Column<uint32_t> event_in_spill;
  Column<uint16_t> type;
  Column<uint64_t> trigger_mask;
  Column<uint32_t> time;
  Column<uint32_t> nerrors;
  size_t rows() const { return index.size(); }
};

struct SadcTable {
  Column<int64_t> event;
  Column<uint16_t> source_id;
  Column<uint8_t> port;
  Column<uint8_t> chip;
  Column<uint8_t> channel;
  Column<uint16_t> nsamples;
  Column<uint16_t> sum;
  // rows() x width, row-major, zero padded past nsamples.
  Column<uint16_t> samples;
  size_t width = 32;
  size_t rows() const { return event.size(); }
};

struct TdcTable {
  Column<int64_t> event;
  Column<uint16_t> source_id;
  Column<uint8_t> port;
  Column<uint8_t> chip;
  Column<uint8_t> channel;
  Column<uint16_t> raw_time;
  Column<uint16_t> trigger_time;
  Column<int32_t> time_bins;
  Column<double> time_ns;
  size_t rows() const { return event.size(); }
};

struct ErrorTable {
  Column<int64_t> event;
  Column<uint64_t> offset;
  Column<int32_t> source_id;
  Column<uint16_t> code;
  Column<int64_t> value;
  size_t rows() const { return event.size(); }
};

struct RawBatch {
  EventTable events;
  SadcTable sadc;
  TdcTable tdc;
  ErrorTable errors;
};

}  // namespace na64::raw
