// The batch loop of WaveformFitter: sample conversion, per-thread workspaces, splitting the
// batch over std::threads with results identical to a serial run.
#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "waveform/fit_model.hpp"
#include "waveform/fit_workspace.hpp"
#include "waveform/waveform_fitter.hpp"

namespace na64::waveform {

template <typename Sample>
void WaveformFitter::fit_range(const Sample* samples, const int64_t* rows, const TimeHints* hints, int64_t begin,
                               int64_t end, const int32_t* recorded, const double* fixed_pedestal,
                               const WaveOutputs& out, PulseColumns& pulses) const {
  FitWorkspace ws;
  const int n = cfg_.nsamples;
  // Room for one pulse per window up front, and once the first windows show the batch's
  // pulses per window (pile-up runs give two or three), for the rest at that rate: spares the
  // doublings of growing columns (each a copy of everything so far into freshly faulted pages).
  const size_t first = pulses.size();
  pulses.reserve(first + static_cast<size_t>(end - begin));
  const int64_t probe = begin + std::min<int64_t>(end - begin, 2048);
  double row[kMaxSamples];
  for (int64_t i = begin; i < end; ++i) {
    if (i == probe && probe < end) {
      const double per_window = static_cast<double>(pulses.size() - first) / static_cast<double>(probe - begin);
      pulses.reserve(first + static_cast<size_t>(1.1 * per_window * static_cast<double>(end - begin)) + 16);
    }
    const Sample* s = samples + (rows ? rows[i] : i) * n;
    for (int k = 0; k < n; ++k) row[k] = static_cast<double>(s[k]);
    const int nrec = recorded ? std::clamp(recorded[i], 0, n) : n;
    // this window's hinted times, in time order (at most as many as a model holds)
    double hint_times[kMaxPulses];
    int nhints = 0;
    if (hints != nullptr && hints->group[i] >= 0) {
      const int64_t g = hints->group[i];
      for (int64_t h = hints->offsets[g]; h < hints->offsets[g + 1] && nhints < kMaxPulses; ++h)
        hint_times[nhints++] = hints->times[h] + hints->shift_ns[i];
    }
    fit_one(row, i, nrec, fixed_pedestal ? fixed_pedestal + 2 * i : nullptr, hint_times, nhints, ws, out, pulses);
  }
}

template <typename Sample>
void WaveformFitter::fit(const Sample* samples, int64_t n, const int32_t* recorded, const double* fixed_pedestal,
                         const WaveOutputs& out, PulseColumns& pulses, const int64_t* rows,
                         const TimeHints* hints) const {
  if (cfg_.pedestal == PedestalMode::kFixed && fixed_pedestal == nullptr)
    throw InputError("pedestal mode 'fixed' needs the pedestal values of every waveform");
  int nthreads = cfg_.threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : cfg_.threads;
  // Small batches are not worth a thread each.
  nthreads = static_cast<int>(std::clamp<int64_t>(n / 256, 1, nthreads));
  pulses.clear();
  if (nthreads == 1) {
    fit_range(samples, rows, hints, 0, n, recorded, fixed_pedestal, out, pulses);
    return;
  }
  std::vector<PulseColumns> parts(static_cast<size_t>(nthreads));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(nthreads));
  std::vector<std::thread> workers;
  for (int t = 0; t < nthreads; ++t) {
    const int64_t b = n * t / nthreads, e = n * (t + 1) / nthreads;
    workers.emplace_back([&, t, b, e]() {
      try {
        fit_range(samples, rows, hints, b, e, recorded, fixed_pedestal, out, parts[static_cast<size_t>(t)]);
      } catch (...) {
        errors[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  size_t total = 0;
  for (auto& p : parts) total += p.size();
  pulses.reserve(total);
  for (auto& p : parts) pulses.append(p);
}

template void WaveformFitter::fit<uint16_t>(const uint16_t*, int64_t, const int32_t*, const double*,
                                            const WaveOutputs&, PulseColumns&, const int64_t*, const TimeHints*) const;
template void WaveformFitter::fit<float>(const float*, int64_t, const int32_t*, const double*, const WaveOutputs&,
                                         PulseColumns&, const int64_t*, const TimeHints*) const;
template void WaveformFitter::fit<double>(const double*, int64_t, const int32_t*, const double*, const WaveOutputs&,
                                          PulseColumns&, const int64_t*, const TimeHints*) const;

}  // namespace na64::waveform
