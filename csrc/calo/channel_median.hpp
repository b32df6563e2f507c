// The channel pedestal of doubtful fits: per channel, the lower median over a batch's waveforms
// of each waveform's smallest recorded sample (see na64reco/calo/channel_medians.py). A batch
// holds millions of digits and the reconstruction wants the few channels of its doubtful fits:
// one pass picks their digits' values, a selection per channel finds the median.
#pragma once
#include <cstdint>

namespace na64::calo {

// key[i]: the channel of digit i (>= -1; -1 is a channel of its own, the unmapped digits;
// below -1: InputError); lowest[i]: its smallest recorded sample; recorded[i]: how many samples it
// has (digits with none do not count). For each of the n_query keys: the lower median of the
// lowest values of its digits, +inf where it has fewer than min_waveforms.
// Recorded counts as int64 or as the decoder's uint16.
template <typename Count>
void lowest_median_by_key(const std::int32_t* key, const std::int32_t* lowest, const Count* recorded,
                          std::int64_t n, const std::int32_t* query, std::int64_t n_query,
                          std::int64_t min_waveforms, double* out);

}  // namespace na64::calo
