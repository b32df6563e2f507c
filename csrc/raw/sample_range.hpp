// Smallest and largest recorded sample of each MSADC digit in one pass: the cheap test for
// "no pulse here" (zero suppression) and the input of channel pedestal estimates.
#pragma once
#include <cstdint>

namespace na64::raw {

// lo[i], hi[i] over samples[i*width .. i*width + min(nsamples[i], width)); both 0 for a
// digit with no recorded sample.
void sample_range(const std::uint16_t* samples, std::int64_t n, std::int64_t width, const std::int64_t* nsamples,
                  std::int32_t* lo, std::int32_t* hi);

}  // namespace na64::raw
