// The raw writer's compiled MSADC record packing: word layout, free-word runs, error paths.
// Run under ASan/UBSan by the sanitizer job.
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "raw/msadc_records.hpp"
#include "tests/check.hpp"

namespace {

struct Records {
  std::vector<std::uint16_t> samples{100, 200, 300, 4095, 7, 0, 1, 2, 3, 4};  // 2 records x width 5
  std::vector<std::int64_t> nsamples{5, 2}, sum{0xBEEF, 3}, channel{15, 1};
  na64::raw::MsadcRecords view() const {
    na64::raw::MsadcRecords r;
    r.n_records = 2;
    r.width = 5;
    r.samples = samples.data();
    r.nsamples = nsamples.data();
    r.sum = sum.data();
    r.channel = channel.data();
    return r;
  }
};

bool rejects(const na64::raw::MsadcRecords& rec, std::vector<std::uint32_t>& words,
             const std::vector<std::uint8_t>& taken, const std::string& what) {
  try {
    na64::raw::fill_msadc_records(rec, words.data(), taken.data(), static_cast<std::int64_t>(words.size()));
  } catch (const na64::InputError& e) {
    return std::string(e.what()).find(what) != std::string::npos;
  }
  return false;
}

void test_words_in_free_slots() {
  Records r;
  // record 0: 1 + 3 words, record 1: 1 + 1 words; a taken word splits record 0
  std::vector<std::uint8_t> taken{1, 0, 0, 1, 0, 0, 0, 0};
  std::vector<std::uint32_t> words(taken.size(), 0xFFFFFFFFu);
  na64::raw::fill_msadc_records(r.view(), words.data(), taken.data(), static_cast<std::int64_t>(words.size()));
  NA64_CHECK(words[0] == 0xFFFFFFFFu && words[3] == 0xFFFFFFFFu);
  NA64_CHECK(words[1] == (0xBEEFu | (5u << 16) | (15u << 26) | (1u << 30)));
  NA64_CHECK(words[2] == (100u | (200u << 12) | (0x40u << 24)));
  NA64_CHECK(words[4] == (300u | (4095u << 12) | (0x80u << 24)));
  NA64_CHECK(words[5] == (7u | (0x80u << 24)));  // odd count: the last pair is padded with 0
  NA64_CHECK(words[6] == (3u | (2u << 16) | (1u << 26) | (1u << 30)));
  NA64_CHECK(words[7] == (0u | (1u << 12) | (0x40u << 24)));
}

void test_errors() {
  Records r;
  std::vector<std::uint32_t> short_words(5);
  NA64_CHECK(rejects(r.view(), short_words, std::vector<std::uint8_t>(5, 0), "no free word left at record 1"));
  std::vector<std::uint32_t> long_words(7);
  NA64_CHECK(rejects(r.view(), long_words, std::vector<std::uint8_t>(7, 0), "free words are left"));
  std::vector<std::uint32_t> words(6);
  const std::vector<std::uint8_t> free_words(6, 0);
  Records bad = r;
  bad.samples[1] = 4096;
  NA64_CHECK(rejects(bad.view(), words, free_words, "record 0 sample 1 = 4096"));
  bad = r;
  bad.nsamples[1] = 6;
  NA64_CHECK(rejects(bad.view(), words, free_words, "record 1 has nsamples 6"));
  bad = r;
  bad.channel[0] = 16;
  NA64_CHECK(rejects(bad.view(), words, free_words, "record 0 has"));
}

}  // namespace

int main() {
  test_words_in_free_slots();
  test_errors();
  return 0;
}
