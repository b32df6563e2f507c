// The raw writer's compiled MSADC record packing (word layout, free-word runs, error paths)
// and the readout address lookup of the detector annotation. Run under ASan/UBSan by the
// sanitizer job.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "raw/address_lookup.hpp"
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

namespace {

// The address lookup agrees with a plain binary search for mapped, repeated, shuffled and
// absent addresses, and an empty map finds nothing.
void test_address_lookup() {
  std::vector<std::int64_t> keys;
  for (int s = 600; s < 606; ++s)
    for (int port = 0; port < 4; ++port)
      for (int ch = 0; ch < 16; ++ch) keys.push_back(((static_cast<std::int64_t>(s) * 256 + port) * 256 + 0) * 256 + ch);
  std::uint32_t state = 7;
  auto next = [&state]() { return state = state * 1664525u + 1013904223u; };
  const std::int64_t n = 5000;
  std::vector<std::uint16_t> source(n);
  std::vector<std::uint8_t> port(n), chip(n), channel(n);
  for (std::int64_t i = 0; i < n; ++i) {
    // mostly readout order, sometimes a jump, sometimes an address outside the map
    source[i] = static_cast<std::uint16_t>(i % 97 == 0 ? next() % 1024 : 600 + (i / 64) % 6);
    port[i] = static_cast<std::uint8_t>(i % 89 == 0 ? next() % 256 : (i / 16) % 4);
    chip[i] = static_cast<std::uint8_t>(i % 83 == 0 ? 1 : 0);
    channel[i] = static_cast<std::uint8_t>(i % 79 == 0 ? next() % 256 : i % 16);
  }
  std::vector<std::int64_t> out(n);
  na64::raw::lookup_addresses(keys.data(), static_cast<std::int64_t>(keys.size()), source.data(), port.data(),
                              chip.data(), channel.data(), n, out.data());
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t key = ((static_cast<std::int64_t>(source[i]) * 256 + port[i]) * 256 + chip[i]) * 256 + channel[i];
    const auto p = std::lower_bound(keys.begin(), keys.end(), key);
    const std::int64_t want = p != keys.end() && *p == key ? p - keys.begin() : -1;
    NA64_CHECK(out[static_cast<size_t>(i)] == want);
  }
  // the one-pass annotation picks, per digit, the entry of the key lookup_addresses finds
  // (the appended last entry where it finds none)
  std::vector<std::int16_t> by_key(keys.size() + 1);
  for (std::size_t k = 0; k < by_key.size(); ++k) by_key[k] = static_cast<std::int16_t>(3 * k + 1);
  std::vector<std::int16_t> picked(static_cast<std::size_t>(n));
  const na64::raw::KeyedColumn col{by_key.data(), picked.data(), 2};
  na64::raw::annotate_by_key(keys.data(), static_cast<std::int64_t>(keys.size()), source.data(), port.data(),
                             chip.data(), channel.data(), n, &col, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t at = out[static_cast<size_t>(i)] >= 0 ? out[static_cast<size_t>(i)] : static_cast<std::int64_t>(keys.size());
    NA64_CHECK(picked[static_cast<size_t>(i)] == by_key[static_cast<size_t>(at)]);
  }
  const na64::raw::KeyedColumn odd{by_key.data(), picked.data(), 3};
  NA64_CHECK(throws_input_error([&] {
    na64::raw::annotate_by_key(keys.data(), static_cast<std::int64_t>(keys.size()), source.data(), port.data(),
                               chip.data(), channel.data(), n, &odd, 1);
  }));
  na64::raw::lookup_addresses(keys.data(), 0, source.data(), port.data(), chip.data(), channel.data(), n, out.data());
  for (std::int64_t v : out) NA64_CHECK(v == -1);
}

}  // namespace

int main() {
  test_words_in_free_slots();
  test_errors();
  test_address_lookup();
  return 0;
}
