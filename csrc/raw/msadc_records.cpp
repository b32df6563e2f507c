#include "raw/msadc_records.hpp"

#include "common/error.hpp"

namespace na64::raw {

namespace {

constexpr std::uint32_t kHeaderBit = 1u << 30;
constexpr std::uint32_t kFirstDataKey = 0x40u << 24;
constexpr std::uint32_t kDataKey = 0x80u << 24;

// Hands out the free words of the array in order.
class FreeWords {
 public:
  FreeWords(std::uint32_t* words, const std::uint8_t* taken, std::int64_t n) : words_(words), taken_(taken), n_(n) {}
  // n consecutive free words at the next free position, or null (then nothing is consumed)
  std::uint32_t* run(std::int64_t n) {
    skip_taken();
    if (n > n_ - pos_) return nullptr;
    std::uint8_t any = 0;
    for (std::int64_t i = 0; i < n; ++i) any |= taken_[pos_ + i];
    if (any) return nullptr;
    std::uint32_t* out = words_ + pos_;
    pos_ += n;
    return out;
  }
  bool put(std::uint32_t value) {
    skip_taken();
    if (pos_ >= n_) return false;
    words_[pos_++] = value;
    return true;
  }
  bool all_used() {
    skip_taken();
    return pos_ == n_;
  }

 private:
  void skip_taken() {
    while (pos_ < n_ && taken_[pos_]) ++pos_;
  }
  std::uint32_t* words_;
  const std::uint8_t* taken_;
  std::int64_t n_;
  std::int64_t pos_ = 0;
};

std::uint32_t data_word(std::uint32_t lo, std::uint32_t hi, std::int64_t k) {
  return lo | (hi << 12) | (k == 0 ? kFirstDataKey : kDataKey);
}

// The data words of one record into consecutive words: w[j] packs samples 2j and 2j+1
// (samples already checked to be 12-bit). Every word is written with the plain data key and
// the first one re-keyed after, so the loop body has no condition and vectorises.
void pack_pairs(const std::uint16_t* __restrict s, std::int64_t ns, std::uint32_t* __restrict w) {
  const std::int64_t full = ns / 2;
  for (std::int64_t j = 0; j < full; ++j)
    w[j] = static_cast<std::uint32_t>(s[2 * j]) | (static_cast<std::uint32_t>(s[2 * j + 1]) << 12) | kDataKey;
  if (ns % 2) w[full] = static_cast<std::uint32_t>(s[ns - 1]) | kDataKey;
  if (ns > 0) w[0] = (w[0] & 0x00FFFFFFu) | kFirstDataKey;
}

}  // namespace

void fill_msadc_records(const MsadcRecords& rec, std::uint32_t* words, const std::uint8_t* taken,
                        std::int64_t n_words) {
  if (rec.n_records < 0 || rec.width < 0 || n_words < 0)
    throw InputError(concat("msadc records: bad sizes records=", rec.n_records, " width=", rec.width,
                            " words=", n_words));
  FreeWords out(words, taken, n_words);
  for (std::int64_t r = 0; r < rec.n_records; ++r) {
    const std::int64_t ns = rec.nsamples[r];
    if (ns < 0 || ns > 511 || ns > rec.width || rec.sum[r] < 0 || rec.sum[r] > 0xFFFF || rec.channel[r] < 0 ||
        rec.channel[r] > 15)
      throw InputError(concat("msadc records: record ", r, " has nsamples ", ns, ", sum ", rec.sum[r], ", channel ",
                              rec.channel[r], "; expected 0..min(511, ", rec.width, "), 0..65535, 0..15"));
    const auto header = static_cast<std::uint32_t>(rec.sum[r]) | (static_cast<std::uint32_t>(ns) << 16) |
                        (static_cast<std::uint32_t>(rec.channel[r]) << 26) | kHeaderBit;
    const std::uint16_t* s = rec.samples + r * rec.width;
    std::uint32_t highest = 0;
    for (std::int64_t k = 0; k < ns; ++k) highest |= s[k];
    if (highest > 0xFFF) {
      std::int64_t k = 0;
      while (s[k] <= 0xFFF) ++k;
      throw InputError(concat("msadc records: record ", r, " sample ", k, " = ", s[k], ", expected 0..4095"));
    }
    const std::int64_t pairs = (ns + 1) / 2;
    // a record normally lies in one run of free words (records follow their ADC block header)
    if (std::uint32_t* w = out.run(1 + pairs)) {
      w[0] = header;
      pack_pairs(s, ns, w + 1);
      continue;
    }
    bool ok = out.put(header);
    for (std::int64_t k = 0; ok && k < ns; k += 2) ok = out.put(data_word(s[k], k + 1 < ns ? s[k + 1] : 0u, k));
    if (!ok) throw InputError(concat("msadc records: the word array has no free word left at record ", r));
  }
  if (!out.all_used()) throw InputError("msadc records: free words are left after the last record");
}

}  // namespace na64::raw
