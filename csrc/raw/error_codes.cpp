#include "raw/error_codes.hpp"

namespace na64::raw {

const std::vector<std::pair<uint16_t, const char*>>& error_names() {
  static const std::vector<std::pair<uint16_t, const char*>> names = {
      {1, "truncated_header"},
      {2, "event_truncated"},
      {3, "bytes_skipped"},
      {4, "byte_swapped"},
      {5, "bad_header_length"},
      {6, "bad_version"},
      {7, "event_size_zero"},
      {8, "event_size_invalid"},
      {9, "event_overruns_next"},
      {10, "bad_magic"},
      {11, "subevent_outside_parent"},
      {12, "subevent_mismatch"},
      {13, "equipment_size_not_multiple_of_4"},
      {14, "equipment_size_too_small"},
      {15, "equipment_outside_event"},
      {16, "equipment_slink_size_mismatch"},
      {17, "unknown_equipment_type"},
      {18, "slink_size_too_small"},
      {19, "slink_event_mismatch"},
      {20, "mux_zero_size"},
      {21, "mux_size_mismatch"},
      {22, "unknown_data_format"},
      {23, "adc_bad_key"},
      {24, "adc_size_zero"},
      {25, "adc_size_overrun"},
      {26, "adc_event_mismatch"},
      {27, "module_missing"},
      {28, "channel_bad_id"},
      {29, "channel_reserved_bit"},
      {30, "samples_overrun"},
      {31, "data_word_bad_id"},
      {32, "f1_data_before_header"},
      {33, "f1_reserved_bit"},
  };
  return names;
}

}  // namespace na64::raw
