// Fuzzes the raw decoder: synthesises valid DATE files (plain and super events, MSADC,
// F1, multiplexers), damages them many thousand times and decodes each copy from an
// exactly sized heap buffer, so AddressSanitizer sees any read past the end. Checks that
// every byte is accounted for and that events before the first damaged byte are intact.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "raw/decoder.hpp"
#include "raw/layout.hpp"
#include "check.hpp"

using namespace na64::raw;

namespace {

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint32_t below(uint64_t n) { return static_cast<uint32_t>(next() % n); }
};

using Words = std::vector<uint32_t>;

void append(Words& out, const Words& w) { out.insert(out.end(), w.begin(), w.end()); }

Words date_header(uint32_t size_bytes, uint32_t eis, uint32_t type, bool super_event) {
  Words h(17, 0);
  h[0] = size_bytes;
  h[1] = date::kMagic;
  h[2] = date::kHeaderBytes;
  h[3] = 0x0003000E;
  h[4] = type;
  h[5] = 4242;
  h[6] = 100000 + eis;
  h[7] = (5u << 20) | eis;
  h[8] = eis << 1;
  h[13] = super_event ? date::kSuperEventBit : 0;
  return h;
}

Words slink_block(uint32_t source, uint32_t eis, uint32_t format, const Words& data) {
  Words w = {static_cast<uint32_t>(3 + data.size()) | (source << 16), eis | (5u << 20), format << 24};
  append(w, data);
  return w;
}

Words equipment(const Words& slink) {
  Words w = {static_cast<uint32_t>(28 + 4 * slink.size()), equipment::kTypeSlink, 0, 0, 0, 0, 4};
  append(w, slink);
  return w;
}

Words msadc_data(Rng& rng, uint32_t eis) {
  Words out;
  const uint32_t nadc = 1 + rng.below(3);
  for (uint32_t a = 0; a < nadc; ++a) {
    Words body;
    const uint32_t nch = rng.below(5);
    for (uint32_t c = 0; c < nch; ++c) {
      const uint32_t ns = (rng.below(4) == 0) ? rng.below(40) : 32;
      body.push_back((1u << 30) | (rng.below(16) << 26) | (ns << 16) | rng.below(1 << 16));
      for (uint32_t k = 0; k < (ns + 1) / 2; ++k)
        body.push_back(((k == 0 ? 0x40u : 0x80u) << 24) | (rng.below(4096) << 12) | rng.below(4096));
    }
    out.push_back((3u << 30) | (rng.below(8) << 27) | (rng.below(4) << 25) |
                  (static_cast<uint32_t>(1 + body.size()) << 12) | (eis & 0xFFF));
    append(out, body);
  }
  return out;
}

Words f1_data(Rng& rng) {
  Words out;
  for (uint32_t port = 0; port < 3; ++port) {
    out.push_back((rng.below(512) << 15) | (port << 4));
    const uint32_t nhits = rng.below(4);
    for (uint32_t h = 0; h < nhits; ++h) out.push_back((1u << 31) | (rng.below(64) << 24) | (rng.below(1 << 16) << 8) | (port << 4));
  }
  return out;
}

Words event_payload(Rng& rng, uint32_t eis) {
  Words p;
  append(p, equipment(slink_block(10, eis, slink::kFormatMsadc, msadc_data(rng, eis))));
  if (rng.below(2)) {
    Words a = slink_block(20, eis, slink::kFormatF1, f1_data(rng));
    Words b = slink_block(21, eis, slink::kFormatMsadc, msadc_data(rng, eis));
    Words mux = {static_cast<uint32_t>(2 + a.size() + b.size()) | (900u << 16), eis | (5u << 20)};
    append(mux, a);
    append(mux, b);
    append(p, equipment(mux));
  } else {
    append(p, equipment(slink_block(22, eis, slink::kFormatF1, f1_data(rng))));
  }
  return p;
}

// Byte offsets where each event starts, plus the file end.
std::vector<uint8_t> synthesise(Rng& rng, uint32_t nevents, std::vector<size_t>& starts) {
  Words file;
  starts.clear();
  for (uint32_t i = 0; i < nevents; ++i) {
    const uint32_t eis = i + 1;
    starts.push_back(4 * file.size());
    if (i % 7 == 6) {
      append(file, date_header(68, eis, 5, false));
    } else if (i % 3 == 2) {
      Words subs;
      for (int s = 0; s < 2; ++s) {
        Words sp = event_payload(rng, eis);
        Words sub = date_header(static_cast<uint32_t>(68 + 4 * sp.size()), eis, 7, false);
        append(sub, sp);
        append(subs, sub);
      }
      append(file, date_header(static_cast<uint32_t>(68 + 4 * subs.size()), eis, 7, true));
      append(file, subs);
    } else {
      Words p = event_payload(rng, eis);
      append(file, date_header(static_cast<uint32_t>(68 + 4 * p.size()), eis, 7, false));
      append(file, p);
    }
  }
  starts.push_back(4 * file.size());
  std::vector<uint8_t> bytes(4 * file.size());
  std::copy_n(reinterpret_cast<const uint8_t*>(file.data()), bytes.size(), bytes.data());
  return bytes;
}

RawBatch decode_all(const std::vector<uint8_t>& bytes, size_t batch_events) {
  // An exactly sized heap copy: ASan flags any byte read past its end.
  std::vector<uint8_t> exact(bytes);
  exact.shrink_to_fit();
  Decoder d(exact.data(), exact.size());
  RawBatch all = d.next_batch(batch_events);
  // Later batches only need to terminate and stay in bounds.
  while (!d.done()) (void)d.next_batch(batch_events);
  return all;
}

void check_accounting(const RawBatch& b, size_t file_size) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::vector<uint64_t> cut(b.events.rows(), 0);
  std::vector<uint32_t> count(b.events.rows(), 0);
  for (size_t k = 0; k < b.errors.rows(); ++k) {
    const int64_t ev = b.errors.event[k];
    NA64_CHECK(ev >= -1 && ev < static_cast<int64_t>(b.events.rows()));
    const auto code = static_cast<ErrorCode>(b.errors.code[k]);
    if (ev >= 0) {
      count[static_cast<size_t>(ev)]++;
      if (code == ErrorCode::kEventTruncated || code == ErrorCode::kEventOverrunsNext)
        cut[static_cast<size_t>(ev)] += static_cast<uint64_t>(b.errors.value[k]);
    }
    if (code == ErrorCode::kBytesSkipped || code == ErrorCode::kTruncatedHeader)
      ranges.emplace_back(b.errors.offset[k], b.errors.offset[k] + static_cast<uint64_t>(b.errors.value[k]));
  }
  for (size_t r = 0; r < b.events.rows(); ++r) {
    NA64_CHECK(count[r] == b.events.nerrors[r]);
    ranges.emplace_back(b.events.offset[r], b.events.offset[r] + b.events.size[r] - cut[r]);
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (const auto& [lo, hi] : ranges) {
    NA64_CHECK(lo == at && hi > lo);
    at = hi;
  }
  NA64_CHECK(at == file_size);
  for (size_t k = 0; k < b.sadc.samples.size(); ++k) NA64_CHECK(b.sadc.samples[k] <= 4095);
}

// The first `m` events and their digits equal those of the intact file.
void check_prefix(const RawBatch& b, const RawBatch& ref, size_t m) {
  NA64_CHECK(b.events.rows() >= m);
  for (size_t r = 0; r < m; ++r) {
    NA64_CHECK(b.events.offset[r] == ref.events.offset[r] && b.events.size[r] == ref.events.size[r]);
    NA64_CHECK(b.events.event_in_spill[r] == ref.events.event_in_spill[r] && b.events.nerrors[r] == 0);
  }
  size_t n = 0;
  while (n < ref.sadc.rows() && ref.sadc.event[n] < static_cast<int64_t>(m)) ++n;
  NA64_CHECK(b.sadc.rows() >= n);
  for (size_t k = 0; k < n; ++k) {
    NA64_CHECK(b.sadc.event[k] == ref.sadc.event[k] && b.sadc.channel[k] == ref.sadc.channel[k]);
    NA64_CHECK(b.sadc.nsamples[k] == ref.sadc.nsamples[k]);
    for (size_t s = 0; s < ref.sadc.nsamples[k]; ++s)
      NA64_CHECK(b.sadc.samples[k * b.sadc.width + s] == ref.sadc.samples[k * ref.sadc.width + s]);
  }
  size_t t = 0;
  while (t < ref.tdc.rows() && ref.tdc.event[t] < static_cast<int64_t>(m)) ++t;
  NA64_CHECK(b.tdc.rows() >= t);
  for (size_t k = 0; k < t; ++k) NA64_CHECK(b.tdc.raw_time[k] == ref.tdc.raw_time[k] && b.tdc.time_bins[k] == ref.tdc.time_bins[k]);
}

std::vector<uint8_t> mutate(Rng& rng, const std::vector<uint8_t>& clean, const std::vector<size_t>& starts,
                            size_t& first_bad) {
  std::vector<uint8_t> out(clean);
  const size_t n = clean.size();
  switch (rng.below(6)) {
    case 0: {  // bit flips
      first_bad = n;
      const uint32_t flips = 1 + rng.below(8);
      for (uint32_t f = 0; f < flips; ++f) {
        const size_t p = rng.below(n);
        out[p] ^= static_cast<uint8_t>(1u << rng.below(8));
        first_bad = std::min(first_bad, p);
      }
      break;
    }
    case 1:  // truncation
      first_bad = rng.below(n);
      out.resize(first_bad);
      break;
    case 2: {  // splice: an event cut short, then a later event
      const size_t i = rng.below(starts.size() - 2);
      const size_t j = i + 1 + rng.below(starts.size() - 2 - i);
      first_bad = starts[i] + 4 * (1 + rng.below((starts[i + 1] - starts[i]) / 4 - 1));
      out.assign(clean.begin(), clean.begin() + static_cast<std::ptrdiff_t>(first_bad));
      out.insert(out.end(), clean.begin() + static_cast<std::ptrdiff_t>(starts[j]), clean.end());
      break;
    }
    case 3: {  // garbage inserted
      first_bad = rng.below(2) ? starts[rng.below(starts.size())] : rng.below(n);
      std::vector<uint8_t> junk(1 + rng.below(96));
      for (auto& c : junk) c = static_cast<uint8_t>(rng.next());
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(first_bad), junk.begin(), junk.end());
      break;
    }
    default: {  // one word overwritten with a random or dangerous value
      static const uint32_t special[] = {0, 1, 2, 0xFFFFFFFFu, date::kMagic, 68, 0xFFFFu, 0xC0000000u,
                                         0x40000000u, 0x80000000u, 0x0000FFFFu | (900u << 16)};
      const size_t k = rng.below(n / 4);
      uint32_t v = rng.below(2) ? static_cast<uint32_t>(rng.next()) : special[rng.below(sizeof special / sizeof *special)];
      uint32_t old;
      std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(4 * k), 4, reinterpret_cast<uint8_t*>(&old));
      if (v == old) v ^= 1;
      std::copy_n(reinterpret_cast<const uint8_t*>(&v), 4, out.begin() + static_cast<std::ptrdiff_t>(4 * k));
      first_bad = 4 * k;
      break;
    }
  }
  return out;
}

}  // namespace

int main() {
  Rng rng{0x9E3779B97F4A7C15ull};
  size_t decoded = 0;
  for (int file = 0; file < 12; ++file) {
    std::vector<size_t> starts;
    const std::vector<uint8_t> clean = synthesise(rng, 30, starts);
    const RawBatch ref = decode_all(clean, SIZE_MAX);
    NA64_CHECK(ref.errors.rows() == 0 && ref.events.rows() == 30);
    check_accounting(ref, clean.size());
    for (int m = 0; m < 2500; ++m) {
      size_t first_bad = 0;
      const std::vector<uint8_t> bad = mutate(rng, clean, starts, first_bad);
      const RawBatch b = decode_all(bad, SIZE_MAX);
      check_accounting(b, bad.size());
      size_t intact = 0;
      while (intact + 1 < starts.size() && starts[intact + 1] <= first_bad) ++intact;
      check_prefix(b, ref, intact);
      if (m % 50 == 0) (void)decode_all(bad, 1 + rng.below(4));
      ++decoded;
    }
  }
  // Pure noise, all sizes up to a few headers.
  for (int k = 0; k < 4000; ++k) {
    std::vector<uint8_t> noise(rng.below(400));
    for (auto& c : noise) c = static_cast<uint8_t>(rng.next());
    if (noise.size() >= 8 && rng.below(2)) {  // a magic at a random word to tempt the parser
      const uint32_t magic = date::kMagic;
      const size_t at = 4 * rng.below(noise.size() / 4 - 1) + 4;
      if (at + 4 <= noise.size()) std::copy_n(reinterpret_cast<const uint8_t*>(&magic), 4, noise.begin() + static_cast<std::ptrdiff_t>(at));
    }
    check_accounting(decode_all(noise, SIZE_MAX), noise.size());
    ++decoded;
  }
  std::printf("test_raw_fuzz: %zu damaged buffers decoded\n", decoded);
  return 0;
}
