// Per-thread scratch of the batch fitter. Internal to csrc/waveform.
#pragma once
#include <vector>

#include "waveform/phase_dot_cache.hpp"
#include "waveform/phase_tables.hpp"
#include "waveform/sample_space.hpp"

namespace na64::waveform {

// Scratch owned by one thread for a whole batch: the per-waveform space, phase table and
// dictionary used when samples are masked. Sized once, so the per-waveform path never
// allocates.
struct FitWorkspace {
  SampleSpace space;
  PhaseTable table;
  Dictionary dict;
  std::vector<double> scratch;
  PhaseDotCache dots;
};

}  // namespace na64::waveform
