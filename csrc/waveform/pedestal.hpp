// Pedestal from the leading samples of a window, even and odd samples separately (the
// MSADC interleaves two ADCs), with a check that those samples are quiet.
#pragma once

namespace na64::waveform {

struct LeadingPedestal {
  double even = 0.0, odd = 0.0;
  bool quiet = false;  // false: a pulse or a tail disturbs the leading samples (or too few)
};

// y: samples; used[k] == 0 skips sample k; the first `count` samples are considered.
// A sample further than `max_dev` from its parity's mean marks the window as not quiet, as
// does a steady trend (first half vs second half of the leading samples).
LeadingPedestal leading_pedestal(const double* y, const unsigned char* used, int nsamples, int count,
                                 double noise_rms);

}  // namespace na64::waveform
