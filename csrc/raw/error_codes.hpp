// Stable error codes of the raw decoder; the table in docs/raw-decoding.md documents them.
// Codes never change meaning: add new ones at the end.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace na64::raw {

enum class ErrorCode : uint16_t {
  kTruncatedHeader = 1,
  kEventTruncated = 2,
  kBytesSkipped = 3,
  kByteSwapped = 4,
  kBadHeaderLength = 5,
  kBadVersion = 6,
  kEventSizeZero = 7,
  kEventSizeInvalid = 8,
  kEventOverrunsNext = 9,
  kBadMagic = 10,
  kSubeventOutsideParent = 11,
  kSubeventMismatch = 12,
  kEquipmentSizeNotMultipleOf4 = 13,
  kEquipmentSizeTooSmall = 14,
  kEquipmentOutsideEvent = 15,
  kEquipmentSlinkSizeMismatch = 16,
  kUnknownEquipmentType = 17,
  kSlinkSizeTooSmall = 18,
  kSlinkEventMismatch = 19,
  kMuxZeroSize = 20,
  kMuxSizeMismatch = 21,
  kUnknownDataFormat = 22,
  kAdcBadKey = 23,
  kAdcSizeZero = 24,
  kAdcSizeOverrun = 25,
  kAdcEventMismatch = 26,
  kModuleMissing = 27,
  kChannelBadId = 28,
  kChannelReservedBit = 29,
  kSamplesOverrun = 30,
  kDataWordBadId = 31,
  kF1DataBeforeHeader = 32,
  kF1ReservedBit = 33,
};

// (code, name) for every code, in code order.
const std::vector<std::pair<uint16_t, const char*>>& error_names();

}  // namespace na64::raw
