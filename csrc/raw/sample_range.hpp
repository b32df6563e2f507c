// Smallest and largest recorded sample of each MSADC digit in one pass: the cheap test for
// "no pulse here" (zero suppression) and the input of channel pedestal estimates.
#pragma once
#include <cstdint>

namespace na64::raw {

// lo[i], hi[i] over samples[i*width .. i*width + min(nsamples[i], width)); both 0 for a
// digit with no recorded sample.
void sample_range(const std::uint16_t* samples, std::int64_t n, std::int64_t width, const std::int64_t* nsamples,
                  std::int32_t* lo, std::int32_t* hi);

// span[i]: the larger of (max - min) over the even and over the odd recorded samples of
// digit i (0 for fewer than two samples of a parity). The interleaved ADCs of an MSADC
// channel have pedestals a few counts apart, which the plain max - min adds to every
// quiet channel's spread; per parity only the noise and the pulses remain.
// lowest (may be null): also the smallest recorded sample of each digit (0 when none), as
// sample_range's lo, from the same pass. Recorded counts as int64 or as the decoder's uint16.
template <typename Count>
void parity_span(const std::uint16_t* samples, std::int64_t n, std::int64_t width, const Count* nsamples,
                 std::int32_t* span, std::int32_t* lowest = nullptr);

}  // namespace na64::raw
