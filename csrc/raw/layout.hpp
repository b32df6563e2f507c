// Word layouts of DATE events, equipment headers, S-Link blocks, MSADC data format 3 and
// F1 TDC words (see /work/shared/context/raw-format.md and docs/raw-decoding.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace na64::raw {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the raw decoder reads little-endian words with plain loads; add byte swapping for this host"
#endif

// Reads a little-endian word at any address: memcpy keeps unaligned access defined and
// compiles to one load on x86/ARM.
inline uint32_t load_word(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline constexpr uint32_t bits(uint32_t word, unsigned lo, unsigned width) {
  return (word >> lo) & ((width >= 32) ? 0xFFFFFFFFu : ((1u << width) - 1u));
}

namespace date {
inline constexpr uint32_t kMagic = 0xDA1E5AFEu;
inline constexpr uint32_t kMagicSwapped = 0xFE5A1EDAu;
inline constexpr uint32_t kHeaderBytes = 68;
inline constexpr uint32_t kMinVersion = 0xFFFFu;
inline constexpr uint32_t kTypeSwappedFlag = 0x00020000u;
inline constexpr uint32_t kTypeMask = 0xFFFFu;
// typeAttribute bit 68 = word 13 bit 4.
inline constexpr uint32_t kSuperEventBit = 1u << 4;
// Byte offsets of the header words.
enum Word : uint32_t {
  kSize = 0, kMagicWord = 4, kHeadLen = 8, kVersion = 12, kType = 16, kRun = 20,
  kEventId0 = 24, kEventId1 = 28, kTrigger0 = 32, kTrigger1 = 36, kDetectorPattern = 40,
  kTypeAttr0 = 44, kTypeAttr1 = 48, kTypeAttr2 = 52, kLdcId = 56, kGdcId = 60, kTime = 64,
};
enum EventType : uint32_t { kEndOfBurst = 6, kPhysics = 7, kCalibration = 8 };
inline constexpr bool carries_equipment(uint32_t type) {
  return type == kPhysics || type == kCalibration || type == kEndOfBurst;
}
}  // namespace date

namespace equipment {
inline constexpr uint32_t kHeaderBytes = 28;
inline constexpr uint32_t kTypeSlink = 64;
}  // namespace equipment

namespace slink {
inline constexpr uint32_t kHeaderWords = 3;
inline constexpr uint32_t kMuxHeaderWords = 2;
// Project convention: S-Link source ids from here on are multiplexers.
inline constexpr uint32_t kMuxSourceIdMin = 896;
// Project convention: S-Link word 2, format & 0x7F selects the chip data layout.
inline constexpr uint32_t kFormatF1 = 1;
inline constexpr uint32_t kFormatMsadc = 3;
inline constexpr uint32_t kFormatUnspecified = 0;
// Writers that leave the format at 0 are read by the first chip data word: an MSADC block
// starts with an ADC header (key 3) or a module-missing word (key 0, size 1), an F1 block
// with a header word (bit 31 = 0) or a data word (bits 31..30 = 10). An F1 header word
// whose bits 12..31 read exactly 1 is indistinguishable from a module-missing word.
inline uint32_t infer_format(uint32_t first_word) {
  if ((first_word >> 30) == 3u || (first_word >> 12) == 1u) return kFormatMsadc;
  return kFormatF1;
}
inline uint32_t event_size(uint32_t w0) { return bits(w0, 0, 16); }
inline uint32_t source_id(uint32_t w0) { return bits(w0, 16, 10); }
inline uint32_t event_number(uint32_t w1) { return bits(w1, 0, 20); }
inline uint32_t data_format(uint32_t w2) { return bits(w2, 24, 7); }
}  // namespace slink

namespace msadc {
inline constexpr uint32_t kKeyAdc = 3;
inline constexpr uint32_t kChannelId = 1;
inline constexpr uint32_t kFirstDataId = 0x40;
inline constexpr uint32_t kNextDataId = 0x80;
inline constexpr size_t kMinSampleWidth = 32;
}  // namespace msadc

namespace f1 {
inline constexpr unsigned kPorts = 16;
// One trigger-time unit is 128 hit-time bins (docs/data-model.md).
inline constexpr unsigned kTriggerTimeShift = 7;
inline constexpr double kBinNs = 0.1;
}  // namespace f1

}  // namespace na64::raw
