// Amplitudes at pulse times given in advance. The particles of one event reach every channel
// of a detector at nearly the same time, so the times one channel's free fit found serve the
// others: there the amplitudes at those times are one small linear solve, where the free fit
// would look for each pulse again (the pile-up search costs several times the solve).
// A model the pile-up prefilter finds suspicious is not kept: the window is fitted freely.
#include <algorithm>
#include <cmath>

#include "waveform/fit_internal.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

using namespace detail;

bool fit_at_times(const FitContext& ctx, const double* times, int ntimes, PulseModel& m) {
  const PhaseTable& t = *ctx.table;
  const int n = ctx.nsamples;
  const double dt = ctx.shape->sampling_ns();
  // The pulses: one per time inside the fit's time range, at its table phase moved to the
  // time itself to first order (T(t - tau_p - s) = f_p + s d_p + O(s^2), |s| <= half a phase
  // step: a pulse of thousands of ADC counts left at the phase would leave a residual of
  // several noise sigmas); a time within a quarter sample of the previous one is the same
  // pulse (as the free fit merges).
  int phase[kMaxPulses];
  double shift[kMaxPulses];
  int k = 0;
  double last = -1e300;
  for (int j = 0; j < ntimes && k < kMaxPulses; ++j) {
    const double tau = times[j];
    if (!(tau >= ctx.tau_lo && tau <= ctx.tau_hi) || tau - last < 0.25 * dt) continue;
    phase[k] = t.nearest(tau);
    shift[k] = tau - t.tau_of(phase[k]);
    ++k;
    last = tau;
  }
  if (k == 0) return false;
  // Normal matrix of the pulse columns f + s d and their products with the data, once; each
  // solve below takes the rows of the pulses still in.
  double gram[kMaxPulses * kMaxPulses], rhs[kMaxPulses];
  for (int i = 0; i < k; ++i) {
    const double* g = t.normal_at(phase[i]);  // f.f, f.d, d.d
    const double s = shift[i];
    gram[i * kMaxPulses + i] = g[0] + 2.0 * s * g[1] + s * s * g[2];
    rhs[i] = ctx.dots->f_dot_y(phase[i]) + s * ctx.dots->d_dot_y(phase[i]);
    for (int j = 0; j < i; ++j) {
      double c[4];  // f_i.f_j, f_i.d_j, d_i.f_j, d_i.d_j
      ctx.dots->cross(phase[i], phase[j], c);
      gram[i * kMaxPulses + j] = gram[j * kMaxPulses + i] =
          c[0] + shift[j] * c[1] + s * c[2] + s * shift[j] * c[3];
    }
  }
  int in[kMaxPulses];
  for (int i = 0; i < k; ++i) in[i] = i;
  double a[kMaxPulses * kMaxPulses], b[kMaxPulses], amp[kMaxPulses], var[kMaxPulses];
  // Drop the least significant pulse while one is not significant (or not positive): a time
  // another channel saw a particle at need not hold one here.
  for (;;) {
    for (int i = 0; i < k; ++i) {
      b[i] = rhs[in[i]];
      for (int j = 0; j < k; ++j) a[i * k + j] = gram[in[i] * kMaxPulses + in[j]];
    }
    if (!cholesky(a, k, k)) return false;
    cholesky_solve(a, k, k, b, amp);
    cholesky_inverse_diagonal(a, k, k, var);
    int worst = -1;
    double worst_z = 0.0;
    for (int i = 0; i < k; ++i) {
      if (!std::isfinite(amp[i]) || amp[i] > ctx.max_amplitude) return false;
      const double z = amp[i] / std::sqrt(std::max(var[i], 1e-300));
      if (z * z < ctx.cfg->pileup_dchi2 && (worst < 0 || z < worst_z)) {
        worst = i;
        worst_z = z;
      }
    }
    if (worst < 0) break;
    for (int i = worst; i + 1 < k; ++i) in[i] = in[i + 1];
    if (--k == 0) return false;
  }
  m.npulses = k;
  m.on_table_converged = false;
  double explained = 0.0;
  for (int p = 0; p < 2; ++p) m.model_indicator[p] = 0.0;
  for (int q = 0; q < n; ++q) m.residual[q] = ctx.ywp[q];
  for (int i = 0; i < k; ++i) {
    const int p = phase[in[i]];
    const double s = shift[in[i]];
    m.amp[i] = amp[i];
    m.tau[i] = t.tau_of(p) + s;
    m.amp_err[i] = std::sqrt(std::max(var[i], 0.0));
    // the time error a free fit of this pulse alone would have had: this channel's own timing
    m.tau_err[i] = std::sqrt(std::max(t.minv_at(p)[2], 0.0)) / std::max(std::fabs(amp[i]), m.amp_err[i] + 1e-300);
    explained += amp[i] * b[i];
    const double* f = t.f_row(p);
    const double* d = t.d_row(p);
    for (int q = 0; q < n; ++q) m.residual[q] -= amp[i] * (f[q] + s * d[q]);
    for (int ind = 0; ind < ctx.space->nindicator; ++ind)
      m.model_indicator[ind] += amp[i] * (t.ind_f_at(p)[ind] + s * t.ind_d_at(p)[ind]);
  }
  m.chi2 = std::max(0.0, ctx.ypy - explained);
  return !model_suspicious(ctx, m);
}

}  // namespace na64::waveform
