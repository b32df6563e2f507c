// Chip payloads inside an S-Link block: MSADC data format 3 and F1 TDC words. These are
// the hot loops: bounds are checked once per block/channel, then words are read freely.
#include <algorithm>
#include <cstring>

#include "raw/decoder.hpp"
#include "raw/layout.hpp"

namespace na64::raw {

// Re-lays the samples table out with a larger row width (rare: only when a channel has
// more than 32 samples), keeping every row's samples and zero padding.
void Decoder::widen_samples(size_t width) {
  SadcTable& t = out_->sadc;
  const size_t rows = t.rows();
  Column<uint16_t> wider;
  wider.reserve(std::max<size_t>(rows + 1, 64) * width);
  for (size_t r = 0; r < rows; ++r) {
    uint16_t* dst = wider.data() + r * width;
    std::memcpy(dst, t.samples.data() + r * t.width, t.width * sizeof(uint16_t));
    std::fill(dst + t.width, dst + width, uint16_t{0});
  }
  wider.set_size(rows * width);
  t.samples = std::move(wider);
  t.width = width;
}

void Decoder::decode_msadc(size_t begin, size_t nwords, uint32_t source_id, uint32_t slink_event) {
  const uint8_t* words = base_ + begin;
  auto w = [words](size_t i) { return load_word(words + 4 * i); };
  auto at = [begin](size_t i) { return begin + 4 * i; };
  const int32_t src = static_cast<int32_t>(source_id);
  SadcTable& t = out_->sadc;

  size_t i = 0;
  while (i < nwords) {
    const uint32_t h = w(i);
    const uint32_t key = bits(h, 30, 2);
    const uint32_t adc_size = bits(h, 12, 12);
    if (key == 0 && adc_size == 1) {
      error(ErrorCode::kModuleMissing, at(i), src, h);
      ++i;
      continue;
    }
    if (key != msadc::kKeyAdc) return error(ErrorCode::kAdcBadKey, at(i), src, h);
    if (adc_size == 0) return error(ErrorCode::kAdcSizeZero, at(i), src, 0);
    if (adc_size > nwords - i) return error(ErrorCode::kAdcSizeOverrun, at(i), src, adc_size);
    const size_t block_end = i + adc_size;
    if (bits(h, 0, 12) != (slink_event & 0xFFFu)) {
      error(ErrorCode::kAdcEventMismatch, at(i), src, bits(h, 0, 12));
      i = block_end;
      continue;
    }
    const auto chip = static_cast<uint8_t>(bits(h, 25, 2));
    const auto port = static_cast<uint8_t>(bits(h, 27, 3));

    size_t j = i + 1;
    while (j < block_end) {
      const uint32_t c = w(j);
      if (bits(c, 30, 2) != msadc::kChannelId) {
        error(ErrorCode::kChannelBadId, at(j), src, c);
        break;
      }
      if (bits(c, 25, 1)) {
        error(ErrorCode::kChannelReservedBit, at(j), src, c);
        break;
      }
      const uint32_t nsamples = bits(c, 16, 9);
      const size_t ndata = (nsamples + 1) / 2;
      if (ndata > block_end - j - 1) {
        error(ErrorCode::kSamplesOverrun, at(j), src, nsamples);
        break;
      }
      if (nsamples > t.width) widen_samples(nsamples);
      const size_t row = t.rows();
      const size_t width = t.width;
      t.samples.reserve((row + 1) * width);
      uint16_t* out = t.samples.data() + row * width;
      // Unpack and check ids in one pass; the row only counts once all ids are right.
      // A data word's two 12-bit samples land as one little-endian pair of uint16,
      // (d & 0xFFF) | ((d >> 12) & 0xFFF) << 16: a branch-free loop the compiler vectorises.
      const size_t pairs = nsamples / 2;
      const uint8_t* data = words + 4 * (j + 1);
      uint32_t bad_ids = 0;
      if (pairs) {
        const auto unpack = [&](size_t k) {
          const uint32_t d = load_word(data + 4 * k);
          const uint32_t pair = (d & 0xFFFu) | ((d << 4) & 0x0FFF0000u);
          std::memcpy(out + 2 * k, &pair, sizeof pair);
          return d >> 24;
        };
        bad_ids = unpack(0) ^ msadc::kFirstDataId;
        for (size_t k = 1; k < pairs; ++k) bad_ids |= unpack(k) ^ msadc::kNextDataId;
      }
      if (nsamples & 1u) {
        const uint32_t d = w(j + ndata);
        bad_ids |= bits(d, 24, 8) ^ (pairs == 0 ? msadc::kFirstDataId : msadc::kNextDataId);
        out[nsamples - 1] = static_cast<uint16_t>(d & 0xFFFu);
      }
      if (bad_ids) {
        // Name the first offending word.
        size_t k = 0;
        while (bits(w(j + 1 + k), 24, 8) == (k == 0 ? msadc::kFirstDataId : msadc::kNextDataId)) ++k;
        error(ErrorCode::kDataWordBadId, at(j + 1 + k), src, w(j + 1 + k));
        j += 1 + ndata;
        continue;
      }
      std::fill(out + nsamples, out + width, uint16_t{0});
      t.samples.set_size((row + 1) * width);
      t.event.push_back(row_);
      t.source_id.push_back(static_cast<uint16_t>(source_id));
      t.port.push_back(port);
      t.chip.push_back(chip);
      t.channel.push_back(static_cast<uint8_t>(bits(c, 26, 4)));
      t.nsamples.push_back(static_cast<uint16_t>(nsamples));
      t.sum.push_back(static_cast<uint16_t>(bits(c, 0, 16)));
      j += 1 + ndata;
    }
    i = block_end;
  }
}

void Decoder::decode_f1(size_t begin, size_t nwords, uint32_t source_id) {
  const uint8_t* words = base_ + begin;
  const int32_t src = static_cast<int32_t>(source_id);
  TdcTable& t = out_->tdc;
  // Trigger time of the latest header per port; -1 = no header yet in this block.
  int32_t trigger_time[f1::kPorts];
  std::fill(trigger_time, trigger_time + f1::kPorts, -1);
  for (size_t i = 0; i < nwords; ++i) {
    const uint32_t d = load_word(words + 4 * i);
    const uint32_t port = bits(d, 4, 4);
    if (!bits(d, 31, 1)) {
      trigger_time[port] = static_cast<int32_t>(bits(d, 15, 9));
      continue;
    }
    if (bits(d, 30, 1)) {
      error(ErrorCode::kF1ReservedBit, begin + 4 * i, src, d);
      continue;
    }
    if (trigger_time[port] < 0) {
      error(ErrorCode::kF1DataBeforeHeader, begin + 4 * i, src, d);
      continue;
    }
    const uint32_t raw_time = bits(d, 8, 16);
    const uint32_t trig = static_cast<uint32_t>(trigger_time[port]);
    const uint32_t chip_chan = bits(d, 24, 6);
    // Wrap-around of the 16-bit counter folds to the signed range.
    const auto time_bins = static_cast<int16_t>(static_cast<uint16_t>(raw_time - (trig << f1::kTriggerTimeShift)));
    t.event.push_back(row_);
    t.source_id.push_back(static_cast<uint16_t>(source_id));
    t.port.push_back(static_cast<uint8_t>(port));
    t.chip.push_back(static_cast<uint8_t>(chip_chan >> 3));
    t.channel.push_back(static_cast<uint8_t>(chip_chan & 7u));
    t.raw_time.push_back(static_cast<uint16_t>(raw_time));
    t.trigger_time.push_back(static_cast<uint16_t>(trig));
    t.time_bins.push_back(time_bins);
    t.time_ns.push_back(time_bins * f1::kBinNs);
  }
}

}  // namespace na64::raw
