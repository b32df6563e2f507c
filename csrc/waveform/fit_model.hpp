// The per-waveform fitting steps (single pulse, multi-pulse refinement, NNLS pile-up search),
// shared by the fast path (precomputed tables) and the masked-sample path (computed on the fly).
#pragma once
#include <cmath>

#include "waveform/fitter_config.hpp"
#include "waveform/nnls.hpp"
#include "waveform/phase_dot_cache.hpp"
#include "waveform/phase_tables.hpp"
#include "waveform/pulse_template.hpp"
#include "waveform/sample_space.hpp"
#include "waveform/window_scan.hpp"

namespace na64::waveform {

constexpr int kMaxPulses = 12;

// Everything one waveform's fit looks at, in the whitened space.
struct FitContext {
  const FitterConfig* cfg;
  const SampledShape* shape;
  const SampleSpace* space;
  const PhaseTable* table;  // the fitter's, one derived for masked samples, or null (exact template only)
  // Models kept are polished on the exact template (exact_refinement, and windows with masked
  // samples: their large clipped pulses would show the table's second-order error in chi2).
  bool exact_polish;
  PhaseDotCache* dots;      // memo of table-row dot products for this waveform (with table)
  // templates on the pair search's grid with their Gram matrix (null: computed per window)
  const Dictionary* pair_dict;
  double tau_lo, tau_hi;
  double max_amplitude;     // larger fitted amplitudes are unphysical (far beyond the ADC range)
  int nsamples;
  alignas(32) double yw[kMaxSamples];   // whitened data
  double ywp[kMaxSamples];  // whitened data with the pedestal directions removed
  double ypy;               // |ywp|^2: chi2 of "no pulse"
  double indicator_y[2];    // whitened pedestal indicators . yw (to read the pedestals back)
};

// Only the first npulses entries of the per-pulse arrays are meaningful, and only those are
// read: the arrays are left uninitialised (zeroing them for every window and every trial
// model cost several per cent of an isolated pulse's fit).
struct PulseModel {
  int npulses = 0;
  double amp[kMaxPulses], tau[kMaxPulses];
  double amp_err[kMaxPulses], tau_err[kMaxPulses];
  double chi2 = 0.0;
  double model_indicator[2] = {};  // whitened pedestal indicators . whitened pulse model
  alignas(16) double residual[kMaxSamples];  // whitened, projected residual at the last solve
  bool on_table_converged = false; // refine_pulses on the table ended with every pulse on its phase
};

void prepare_context(FitContext& ctx, const double* y);

// The even and odd pedestals of a fit with free pedestals: least squares of the data minus
// the model m on the whitened even / odd indicators (ped[1] = ped[0] when only one is free).
void read_back_pedestals(const FitContext& ctx, const PulseModel& m, double ped[2]);

// One pulse, optimal filter on the phase table (if any) then Gauss-Newton on the exact
// template (or, with exact_refinement false and a table, a curvature-corrected step from the
// table). polarity +1 looks for a positive pulse, -1 for a negative excursion. scan: on the
// table, first pick the best of the amplitude-only fits at five phases over +-1 sample
// around tau0, so that Gauss-Newton starts in the right chi2 valley (see
// WaveformFitter::converges_without_scan for when it may be skipped). Returns false when the
// normal equations are singular.
bool fit_single(const FitContext& ctx, double tau0, double polarity, bool exact_refinement, PulseModel& m,
                bool scan = true);
// Whether m, fit_single's result without the scan, lies within half a scan step of the phase
// the scan picks: Gauss-Newton from there would start in m's valley, next to m.
bool scan_confirms(const FitContext& ctx, double tau0, double polarity, const PulseModel& m);

// Joint refinement of all pulses in m (amplitudes and times); pulses whose amplitude turns
// non-positive are dropped and pulses that converge onto each other are merged.
// On the table (max_exact 0) a model stops once no pulse leaves its neighbouring phase, or
// with same_phase_only its very phase (see pulse_refine.cpp).
bool refine_pulses(const FitContext& ctx, PulseModel& m, double tolerance_ns, int max_exact,
                   bool same_phase_only = false);

// The prefilter's test on a model: chi2 beyond pileup_chi2_sigma of its ndf, or a positive
// two-sample bump left in the residual. Inline: every single-pulse fit asks it.
inline bool model_suspicious(const FitContext& ctx, const PulseModel& m) {
  const FitterConfig& cfg = *ctx.cfg;
  const int ndf = ctx.space->nused - ctx.space->npedestal - 2 * m.npulses;
  if (ndf > 0 && m.chi2 > ndf + cfg.pileup_chi2_sigma * std::sqrt(2.0 * ndf)) return true;
  return scan::residual_bump(m.residual, ctx.nsamples, cfg.pileup_residual_sigma * std::sqrt(2.0));
}

// Adds pulses at the dictionary atoms best correlated with m's residual while the model is
// suspicious (chi2 or a residual bump) and each addition gains pileup_dchi2 with every pulse
// significant (a pulse within a quarter sample of exempt_tau need not be; NaN: none).
// corr: scratch of dict.natoms doubles.
void add_pulses_from_residual(const FitContext& ctx, const Dictionary& dict, double* corr, PulseModel& m,
                              double exempt_tau);

// Amplitudes of pulses at the given peak times (ns from sample 0, in time order), each from the
// nearest table phase's rows moved to the time to first order; pulses whose amplitude is not
// significant (below sqrt(pileup_dchi2) standard errors) are dropped. True, with the model in
// m, when pulses are left and the prefilter (model_suspicious) finds nothing in the model: no
// chi2 excess and no residual bump. Needs ctx.table and ctx.dots. See hinted_fit.cpp.
bool fit_at_times(const FitContext& ctx, const double* times, int ntimes, PulseModel& m);

// Full pile-up resolution starting from the single-pulse result; dict must match ctx.space.
// w: scratch of dict.natoms doubles (twice).
void resolve_pileup(const FitContext& ctx, const Dictionary& dict, double* scratch, PulseModel& m);

}  // namespace na64::waveform
