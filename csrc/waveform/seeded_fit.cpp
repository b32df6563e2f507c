// Fits whose pulse times are known roughly before the fit: the channels of one calorimeter
// see the same beam particles, so the times the fitter found in clean neighbouring channels
// seed the fit of a channel whose own search cannot be trusted (clipped samples under two
// overlapping pulses). The seeds' amplitudes and times are refined on the samples that are
// not clipped, and only then are pulses no seed announced added from the residual.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "waveform/fit_internal.hpp"
#include "waveform/fit_workspace.hpp"
#include "waveform/small_linalg.hpp"
#include "waveform/waveform_fitter.hpp"

namespace na64::waveform {

namespace {

// Gauss-Newton rounds on the exact template: two pulses a sample apart with clipped peaks
// leave the problem ill-conditioned and the steps short, and seeded fits are few.
constexpr int kPolishIterations = 20;

// The in-time seed first (when finite and inside the fit's time range), then the others by
// decreasing weight (larger pulses are timed better), each dropped when within merge_ns of
// one already kept; earlier than the range: at its start. At most max_pulses, those nearest
// the in-time one first; returned in time order.
int prepare_seeds(const double* times, const double* weights, int64_t count, double in_time, double lo, double hi,
                  double merge_ns, int max_pulses, double* out) {
  constexpr int kCap = kMaxPulses * 8;
  double t[kCap], wt[kCap];
  int m = 0;
  // A pulse that peaked before the earliest allowed time shows only its tail, which a pulse
  // at that time describes (as in the free fit's search).
  for (int64_t j = 0; j < count && m < kCap; ++j)
    if (std::isfinite(times[j]) && times[j] <= hi) {
      t[m] = std::max(times[j], lo);
      wt[m] = weights != nullptr && std::isfinite(weights[j]) ? weights[j] : 0.0;
      ++m;
    }
  int order[kCap];
  for (int j = 0; j < m; ++j) order[j] = j;
  std::stable_sort(order, order + m, [&](int a, int b) { return wt[a] > wt[b]; });
  const bool has_in_time = std::isfinite(in_time) && in_time >= lo && in_time <= hi;
  double kept[kCap + 1];
  int k = 0;
  if (has_in_time) kept[k++] = in_time;
  for (int q = 0; q < m; ++q) {
    const double x = t[order[q]];
    bool apart = true;
    for (int r = 0; r < k && apart; ++r) apart = std::fabs(x - kept[r]) >= merge_ns;
    if (apart) kept[k++] = x;
  }
  const double centre = has_in_time ? in_time : 0.5 * (lo + hi);
  std::sort(kept, kept + k, [&](double a, double b) { return std::fabs(a - centre) < std::fabs(b - centre); });
  k = std::min(k, max_pulses);
  std::sort(kept, kept + k);
  std::copy(kept, kept + k, out);
  return k;
}

// Amplitudes of pulses at fixed times (template columns only): the starting amplitudes of
// the refinement, whose step damping scales with them.
void starting_amplitudes(const FitContext& ctx, PulseModel& m) {
  const int k = m.npulses, n = ctx.nsamples;
  double cols[kMaxPulses][kMaxSamples];
  double g[kMaxPulses * kMaxPulses], r[kMaxPulses], a[kMaxPulses];
  for (int i = 0; i < k; ++i) exact_template(*ctx.shape, *ctx.space, m.tau[i], cols[i]);
  for (int i = 0; i < k; ++i) {
    r[i] = dot(cols[i], ctx.yw, n);
    for (int j = 0; j <= i; ++j) g[i * k + j] = g[j * k + i] = dot(cols[i], cols[j], n);
  }
  const bool solved = cholesky(g, k, k);
  if (solved) cholesky_solve(g, k, k, r, a);
  for (int i = 0; i < k; ++i) m.amp[i] = solved && std::isfinite(a[i]) ? std::max(std::fabs(a[i]), 1.0) : 1.0;
}

// Peak time of the pulse nearest in_time within tolerance (NaN when none).
double in_time_tau(const PulseModel& m, double in_time, double tolerance) {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < m.npulses; ++i)
    if (std::fabs(m.tau[i] - in_time) <= tolerance && !(std::fabs(best - in_time) <= std::fabs(m.tau[i] - in_time)))
      best = m.tau[i];
  return best;
}

// Seeds the samples cannot confirm (a neighbour's particle that left nothing measurable
// here, one peaking after the window's end) are dropped, the least significant first, so
// that they neither absorb nor block the pulses added from the residual; the in-time pulse
// stays whatever its size, it is the one measured.
void drop_insignificant_seeds(const FitContext& ctx, double in_time, double tolerance, PulseModel& m) {
  const double dchi2 = ctx.cfg->pileup_dchi2;
  while (m.npulses > 1) {
    const double keep = in_time_tau(m, in_time, tolerance);
    int worst = -1;
    double worst_z2 = dchi2;
    for (int i = 0; i < m.npulses; ++i) {
      if (m.tau[i] == keep) continue;
      const double z = m.amp[i] / std::max(m.amp_err[i], 1e-300);
      if (z * z < worst_z2) {
        worst_z2 = z * z;
        worst = i;
      }
    }
    if (worst < 0) return;
    PulseModel next = m;
    for (int i = worst; i + 1 < next.npulses; ++i) {
      next.amp[i] = next.amp[i + 1];
      next.tau[i] = next.tau[i + 1];
    }
    --next.npulses;
    if (!refine_pulses(ctx, next, detail::kConvergedNs, kPolishIterations)) return;
    m = next;
  }
}

// The in-time amplitude where the final model has no pulse there: a template at the in-time
// time (fixed) fitted together with the model's pulses (each with its shift column, so that
// they may still adjust), with its standard error; false when singular.
bool forced_in_time(const FitContext& ctx, const PulseModel& m, double in_time, double& amp, double& err) {
  const int n = ctx.nsamples;
  const int k = m.npulses;
  const int np = 2 * k + 1;
  if (np > kMaxParams) return false;
  ExactBasis eb[kMaxPulses];
  double forced[kMaxSamples];
  const double* col[kMaxParams];
  for (int i = 0; i < k; ++i) {
    exact_basis(*ctx.shape, *ctx.space, m.tau[i], eb[i]);
    col[2 * i] = eb[i].f;
    col[2 * i + 1] = eb[i].d;
  }
  exact_template(*ctx.shape, *ctx.space, in_time, forced);
  col[np - 1] = forced;
  double a[kMaxParams * kMaxParams], r[kMaxParams], theta[kMaxParams], var[kMaxParams];
  for (int p = 0; p < np; ++p) {
    r[p] = dot(col[p], ctx.yw, n);
    for (int q = 0; q <= p; ++q) a[p * np + q] = a[q * np + p] = dot(col[p], col[q], n);
  }
  if (!cholesky(a, np, np)) return false;
  cholesky_solve(a, np, np, r, theta);
  cholesky_inverse_diagonal(a, np, np, var);
  amp = theta[np - 1];
  err = std::sqrt(std::max(var[np - 1], 0.0));
  return std::isfinite(amp) && std::isfinite(err);
}

// Amplitudes at the seed times as they are (no time refinement): least squares on the
// template columns, dropping the most negative pulse other than the in-time one (`keep`, -1:
// none) while one is negative. The in-time amplitude may stay negative: it is a measurement.
// Fills m.amp, m.amp_err, m.chi2 and m.npulses; false when singular.
bool fixed_times_fit(const FitContext& ctx, PulseModel& m, int keep) {
  const int n = ctx.nsamples;
  ExactBasis eb[kMaxPulses];  // the template column, and its indicator products for the pedestals
  for (int i = 0; i < m.npulses; ++i) exact_basis(*ctx.shape, *ctx.space, m.tau[i], eb[i]);
  for (;;) {
    const int k = m.npulses;
    if (k == 0) return false;
    double g[kMaxPulses * kMaxPulses], r[kMaxPulses], a[kMaxPulses], var[kMaxPulses];
    for (int i = 0; i < k; ++i) {
      r[i] = dot(eb[i].f, ctx.yw, n);
      for (int j = 0; j <= i; ++j) g[i * k + j] = g[j * k + i] = dot(eb[i].f, eb[j].f, n);
    }
    if (!cholesky(g, k, k)) return false;
    cholesky_solve(g, k, k, r, a);
    int worst = -1;
    for (int i = 0; i < k; ++i)
      if (i != keep && a[i] < 0.0 && (worst < 0 || a[i] < a[worst])) worst = i;
    if (worst < 0) {
      cholesky_inverse_diagonal(g, k, k, var);
      m.chi2 = std::max(0.0, ctx.ypy - dot(a, r, k));
      if (!std::isfinite(m.chi2)) return false;  // samples far beyond any ADC range overflowed it
      m.model_indicator[0] = m.model_indicator[1] = 0.0;
      for (int i = 0; i < k; ++i) {
        m.amp[i] = a[i];
        m.amp_err[i] = std::sqrt(std::max(var[i], 0.0));
        for (int p = 0; p < ctx.space->nindicator; ++p) m.model_indicator[p] += a[i] * eb[i].ef[p];
        if (!std::isfinite(a[i])) return false;
      }
      return true;
    }
    for (int i = worst; i + 1 < k; ++i) {
      m.tau[i] = m.tau[i + 1];
      eb[i] = eb[i + 1];
    }
    if (keep > worst) --keep;
    --m.npulses;
  }
}

// Whether the model reaches the clipping level wherever a sample is clipped (within 5 noise
// rms); below it, amplitude is missing that the masked samples could not show.
void check_clipping(const FitContext& ctx, const PulseModel& model, const bool* clipped, uint8_t& consistent) {
  const int n = ctx.nsamples;
  bool any_clipped = false;
  for (int k = 0; k < n; ++k) any_clipped = any_clipped || clipped[k];
  if (!any_clipped) return;
  double ped[2] = {0.0, 0.0};
  read_back_pedestals(ctx, model, ped);
  double sum[kMaxSamples] = {}, f[kMaxSamples], g[kMaxSamples];
  for (int i = 0; i < model.npulses; ++i) {
    ctx.shape->eval_window(model.tau[i], n, f, g);
    for (int k = 0; k < n; ++k) sum[k] += model.amp[i] * f[k];
  }
  const double margin = 5.0 * ctx.cfg->noise_rms;
  for (int k = 0; k < n; ++k)
    if (clipped[k] && !(ped[k % 2] + sum[k] >= ctx.cfg->saturation_adc - margin)) consistent = 0;
}

// Distance from t to the nearest pulse of m other than pulse `skip` (-1: none skipped).
double nearest_other(const PulseModel& m, double t, int skip) {
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < m.npulses; ++i)
    if (i != skip) best = std::min(best, std::fabs(m.tau[i] - t));
  return best;
}

}  // namespace

void WaveformFitter::fit_seeded(const SeededInputs& in, const SeededOutputs& out) const {
  const int n = cfg_.nsamples;
  const double dt = cfg_.sampling_ns;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  FitWorkspace ws;
  for (int64_t w = 0; w < in.n; ++w) {
    out.amplitude[w] = 0.0;
    out.amplitude_err[w] = 0.0;
    out.time_ns[w] = nan;
    out.chi2[w] = 0.0;
    out.ndf[w] = 0;
    out.npulses[w] = 0;
    out.ok[w] = 0;
    out.clip_consistent[w] = 1;
    out.nearest_other_ns[w] = std::numeric_limits<double>::infinity();
    const double* raw = in.samples + w * n;
    const int nrecorded = in.recorded ? std::clamp<int32_t>(in.recorded[w], 0, n) : n;
    double y[kMaxSamples];
    unsigned char mask[kMaxSamples];
    bool clipped[kMaxSamples];
    bool any_masked = false;
    for (int k = 0; k < n; ++k) {
      const double v = raw[k];
      clipped[k] = k < nrecorded && std::isfinite(v) && v >= cfg_.saturation_adc;
      mask[k] = k >= nrecorded || !std::isfinite(v) || clipped[k];
      any_masked = any_masked || mask[k];
      y[k] = mask[k] ? 0.0 : v;
    }
    FitContext ctx;
    init_context(ctx);
    // The refinements start on the phase table (the fitter's, or one derived for the masked
    // samples) and end on the exact template: seeds sit anywhere in continuous time.
    ctx.table = nullptr;
    ctx.dots = nullptr;
    ctx.exact_polish = true;
    if (any_masked) {
      if (!build_space(ws.space, n, noise_, mask, true)) continue;
      ctx.space = &ws.space;
      if (ws.space.white && with_pedestal_->table.can_derive_masked()) {
        ws.table.derive_masked(with_pedestal_->table, ws.space);
        ctx.table = &ws.table;
      }
    } else {
      ctx.space = &with_pedestal_->space;
      ctx.table = &with_pedestal_->table;
    }
    const double in_time = in.in_time_ns[w];
    const int64_t s0 = in.seed_offsets[w], s1 = in.seed_offsets[w + 1];
    PulseModel model;
    const double merge_ns = in.seed_merge_ns > 0.0 ? in.seed_merge_ns : 0.25 * dt;
    model.npulses = prepare_seeds(in.seed_times + s0, in.seed_weights ? in.seed_weights + s0 : nullptr, s1 - s0,
                                  in_time, tau_lo_, tau_hi_, merge_ns, cfg_.max_pulses, model.tau);
    const int npar_min = ctx.space->npedestal + 2 * model.npulses;
    if (model.npulses == 0 || ctx.space->nused <= npar_min) continue;
    prepare_context(ctx, y);
    if (ctx.table != nullptr) {
      ws.dots.begin(*ctx.table, ctx.yw);
      ctx.dots = &ws.dots;
    }
    if (in.fixed_times) {
      int keep = -1;
      for (int i = 0; i < model.npulses; ++i)
        if (model.tau[i] == in_time) keep = i;
      if (!fixed_times_fit(ctx, model, keep)) continue;
      out.ok[w] = 1;
      out.chi2[w] = model.chi2;
      out.ndf[w] = ctx.space->nused - ctx.space->npedestal - model.npulses;
      out.npulses[w] = model.npulses;
      for (int i = 0; i < model.npulses; ++i)
        if (model.tau[i] == in_time) {
          out.amplitude[w] = model.amp[i];
          out.amplitude_err[w] = model.amp_err[i];
          out.time_ns[w] = in_time;
        }
      out.nearest_other_ns[w] = nearest_other(model, in_time, keep);
      check_clipping(ctx, model, clipped, out.clip_consistent[w]);
      continue;
    }
    starting_amplitudes(ctx, model);
    if (!refine_pulses(ctx, model, detail::kConvergedNs, kPolishIterations)) continue;
    drop_insignificant_seeds(ctx, in_time, in.in_time_tolerance_ns, model);
    // Pulses no seed announced (a particle only this channel saw, one starting at the end of
    // the window): added from the residual as the free fit's search would.
    if (cfg_.pileup && model.npulses < cfg_.max_pulses && model_suspicious(ctx, model)) {
      const Dictionary* dict = &with_pedestal_->dict;
      if (any_masked) {
        if (ws.space.white && with_pedestal_->dict.can_derive_masked())
          ws.dict.derive_masked(with_pedestal_->dict, ws.space);
        else
          ws.dict.build(shape_, ws.space, tau_lo_, tau_hi_, cfg_.dictionary_step_ns, /*lazy=*/true);
        dict = &ws.dict;
      }
      if (ws.scratch.size() < static_cast<size_t>(dict->natoms)) ws.scratch.resize(static_cast<size_t>(dict->natoms));
      const int before = model.npulses;
      add_pulses_from_residual(ctx, *dict, ws.scratch.data(), model, in_time_tau(model, in_time, in.in_time_tolerance_ns));
      if (model.npulses != before) {
        PulseModel polished = model;
        if (refine_pulses(ctx, polished, detail::kConvergedNs, kPolishIterations)) model = polished;
      }
    }
    // Samples far beyond any ADC range (a finite -1e300) overflow the sums of squares: whether
    // a solve still succeeds then is up to rounding, and its result is no measurement.
    bool finite = std::isfinite(model.chi2);
    for (int i = 0; i < model.npulses; ++i) finite = finite && std::isfinite(model.amp[i]) && std::isfinite(model.tau[i]);
    if (!finite) continue;
    out.ok[w] = 1;
    out.chi2[w] = model.chi2;
    out.ndf[w] = ctx.space->nused - ctx.space->npedestal - 2 * model.npulses;
    out.npulses[w] = model.npulses;
    int at = -1;
    for (int i = 0; i < model.npulses; ++i)
      if (std::fabs(model.tau[i] - in_time) <= in.in_time_tolerance_ns &&
          (at < 0 || std::fabs(model.tau[i] - in_time) < std::fabs(model.tau[at] - in_time)))
        at = i;
    if (at >= 0) {
      out.amplitude[w] = model.amp[at];
      out.amplitude_err[w] = model.amp_err[at];
      out.time_ns[w] = model.tau[at];
    } else if (std::isfinite(in_time)) {
      double amp = 0.0, err = 0.0;
      if (forced_in_time(ctx, model, in_time, amp, err)) {
        out.amplitude[w] = amp;
        out.amplitude_err[w] = err;
        out.time_ns[w] = in_time;
      }
    }
    if (std::isfinite(out.time_ns[w])) out.nearest_other_ns[w] = nearest_other(model, out.time_ns[w], at);
    check_clipping(ctx, model, clipped, out.clip_consistent[w]);
  }
}

}  // namespace na64::waveform
