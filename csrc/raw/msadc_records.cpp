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
  bool put(std::uint32_t value) {
    while (pos_ < n_ && taken_[pos_]) ++pos_;
    if (pos_ >= n_) return false;
    words_[pos_++] = value;
    return true;
  }
  bool all_used() {
    while (pos_ < n_ && taken_[pos_]) ++pos_;
    return pos_ == n_;
  }

 private:
  std::uint32_t* words_;
  const std::uint8_t* taken_;
  std::int64_t n_;
  std::int64_t pos_ = 0;
};

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
    bool ok = out.put(header);
    const std::uint16_t* s = rec.samples + r * rec.width;
    for (std::int64_t k = 0; ok && k < ns; k += 2) {
      const std::uint32_t lo = s[k];
      const std::uint32_t hi = k + 1 < ns ? s[k + 1] : 0u;
      if (lo > 0xFFF || hi > 0xFFF)
        throw InputError(concat("msadc records: record ", r, " sample ", lo > 0xFFF ? k : k + 1, " = ",
                                lo > 0xFFF ? lo : hi, ", expected 0..4095"));
      ok = out.put(lo | (hi << 12) | (k == 0 ? kFirstDataKey : kDataKey));
    }
    if (!ok) throw InputError(concat("msadc records: the word array has no free word left at record ", r));
  }
  if (!out.all_used()) throw InputError("msadc records: free words are left after the last record");
}

}  // namespace na64::raw
