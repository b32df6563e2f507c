// Batch waveform fitter: pedestal, single-pulse optimal-filter fit, and pile-up resolution
// (NNLS over a dense dictionary of shifted templates, then continuous-time refinement).
// The per-waveform work never allocates and never throws; problems become quality flags.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "waveform/fitter_config.hpp"
#include "waveform/phase_tables.hpp"
#include "waveform/pulse_columns.hpp"
#include "waveform/pulse_template.hpp"
#include "waveform/sample_space.hpp"

namespace na64::waveform {

struct FitWorkspace;
struct FitContext;
struct PulseModel;

// Pulse times known in advance for some of a batch's waveforms (e.g. the times another channel
// of the same detector saw the event's particles at): waveform i is offered
// times[offsets[group[i]] .. offsets[group[i] + 1]) + shift_ns[i] (group[i] < 0: none), in
// time order. The caller checks the indices.
struct TimeHints {
  const double* times = nullptr;
  const int64_t* offsets = nullptr;  // ngroups + 1 entries
  const int64_t* group = nullptr;    // per waveform
  const double* shift_ns = nullptr;  // per waveform
};

class WaveformFitter {
 public:
  WaveformFitter(const PulseTemplate& tpl, FitterConfig config);
  ~WaveformFitter();
  WaveformFitter(const WaveformFitter&) = delete;
  WaveformFitter& operator=(const WaveformFitter&) = delete;

  const FitterConfig& config() const { return cfg_; }
  const PulseTemplate& pulse_template() const { return tpl_; }

  // samples: rows of nsamples() values (row-major); waveform i is row i, or row rows[i] when
  // rows is given (a table's chosen rows read where they lie; the caller checks the indices).
  // recorded: optional per-waveform count of valid samples (the rest is masked).
  // fixed_pedestal: n x 2 (even, odd), required in PedestalMode::kFixed. hints: optional pulse
  // times known in advance; a window whose hinted model the pile-up prefilter accepts keeps it
  // (flag kHinted), the others are fitted freely. Fills out[0..n) and appends pulses (ordered
  // by wave, then time).
  template <typename Sample>
  void fit(const Sample* samples, int64_t n, const int32_t* recorded, const double* fixed_pedestal,
           const WaveOutputs& out, PulseColumns& pulses, const int64_t* rows = nullptr,
           const TimeHints* hints = nullptr) const;

  // Fits with the pulse times known roughly in advance (seeds from other channels that saw
  // the same particles): no search, every seed refined in amplitude and time on the samples
  // left after masking (clipped, unrecorded, non-finite). See seeded_fit.cpp.
  void fit_seeded(const SeededInputs& in, const SeededOutputs& out) const;

  // Time range of the dictionary / single-pulse fit (peak time, ns from sample 0).
  double tau_min() const { return tau_lo_; }
  double tau_max() const { return tau_hi_; }

 private:
  struct Variant {  // everything precomputed for one pedestal treatment, unmasked windows
    SampleSpace space;
    PhaseTable table;
    Dictionary dict;
    Dictionary pair_dict;  // the pair search's finer grid (split_merged_pulses)
    bool scan_free = false;  // see converges_without_scan
  };
  // Whether the single-pulse fit on v's table finds every noiseless pulse inside the window
  // from starts up to a sample off without the phase scan (true for smooth templates such as
  // the calorimeters'; short ones have a second chi2 valley a fraction of a sample away).
  bool converges_without_scan(const Variant& v) const;
  template <typename Sample>
  void fit_range(const Sample* samples, const int64_t* rows, const TimeHints* hints, int64_t begin, int64_t end,
                 const int32_t* recorded, const double* fixed_pedestal, const WaveOutputs& out,
                 PulseColumns& pulses) const;
  void fit_one(const double* raw, int64_t wave, int nrecorded, const double* fixed_pedestal, const double* hint_times,
               int nhints, FitWorkspace& ws, const WaveOutputs& out, PulseColumns& pulses) const;
  // The free fit of a prepared window (free_fit.cpp): start time, single pulse, pile-up
  // search. False when the window holds no fit at all (to be written as failed).
  bool fit_free(const double* raw, const double* y, const unsigned char* mask, bool any_masked, bool fit_pedestal,
                bool prepared, const Variant& variant, FitWorkspace& ws, FitContext& ctx, uint32_t& flags,
                PulseModel& model, bool& edge_retry) const;
  // The context fields every fit of this fitter shares (config, shape, window, time range,
  // amplitude limit); space, table and data are the caller's.
  void init_context(FitContext& ctx) const;

  PulseTemplate tpl_;
  FitterConfig cfg_;
  NoiseModel noise_;
  SampledShape shape_;
  double tau_lo_, tau_hi_;
  std::unique_ptr<Variant> with_pedestal_, without_pedestal_;
};

}  // namespace na64::waveform
