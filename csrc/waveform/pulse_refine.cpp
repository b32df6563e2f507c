// Joint least-squares refinement of several pulses (amplitudes and times), on the phase
// tables or on the exact template.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "waveform/fit_internal.hpp"
#include "waveform/block_ldl.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

using namespace detail;

void detail::drop_weakest(PulseModel& m) {
  int w = 0;
  for (int i = 1; i < m.npulses; ++i)
    if (m.amp[i] < m.amp[w]) w = i;
  for (int i = w; i + 1 < m.npulses; ++i) {
    m.amp[i] = m.amp[i + 1];
    m.tau[i] = m.tau[i + 1];
  }
  --m.npulses;
}

namespace {

// r = y - sum_a theta[a] col[a]: per sample the same subtractions in the same order as column
// by column, eight samples at a time with every column applied before they are stored
// (column by column, each step reloaded and stored the whole residual: 5 % of the fit).
void subtract_columns(const double* y, const double* const* col, const double* theta, int np, int n, double* r) {
  int q = 0;
#if defined(__GNUC__) || defined(__clang__)
  using linalg_detail::load_quad;
  using linalg_detail::quad;
  for (; q + 8 <= n; q += 8) {
    quad v0 = load_quad(y + q), v1 = load_quad(y + q + 4);
    for (int a = 0; a < np; ++a) {
      const quad t = {theta[a], theta[a], theta[a], theta[a]};
      v0 -= t * load_quad(col[a] + q);
      v1 -= t * load_quad(col[a] + q + 4);
    }
    std::memcpy(r + q, &v0, sizeof(quad));
    std::memcpy(r + q + 4, &v1, sizeof(quad));
  }
#endif
  for (; q < n; ++q) {
    double v = y[q];
    for (int a = 0; a < np; ++a) v -= theta[a] * col[a][q];
    r[q] = v;
  }
}

// Linear least squares of the whitened data on the columns (template, -derivative) of every
// pulse at its current time (exact template, or nearest table phase). The factorised normal
// matrix is kept so that the statistics can be added later, only for the solve that turns out
// to be the answer.
struct Solution {
  int np = 0;
  int k = 0;
  double theta[kMaxParams];
  double base[kMaxPulses];  // the times the columns were evaluated at
  double rhs[kMaxParams];
  double factor[kMaxParams * kMaxParams];  // block LDL^T factor of the normal matrix (np x np)
  const double* col[kMaxParams];
  int phase[kMaxPulses];    // table phase of each pulse, -1 on the exact template
  double damping[kMaxPulses];  // added to the shift parameter's diagonal (0: none)
  ExactBasis eb[kMaxPulses];
};

// Errors, chi2, residual and pedestal-indicator products of the solution s, written to m
// (pulse i of the solve to slot i). write_amp false leaves m.amp alone (already set from
// the same theta by apply_step).
void write_stats(const FitContext& ctx, PulseModel& m, const Solution& s, bool write_amp) {
  const int n = ctx.nsamples;
  const int np = s.np;
  double var[kMaxParams];
  block_ldl_inverse_diagonal(s.factor, s.k, var);
  // |y - X theta|^2 = ypy - theta.rhs - sum(damping * shift^2) for the damped normal equations.
  double damped = 0.0;
  for (int i = 0; i < s.k; ++i) damped += s.damping[i] * s.theta[2 * i + 1] * s.theta[2 * i + 1];
  m.chi2 = std::max(0.0, ctx.ypy - dot(s.theta, s.rhs, np) - damped);
  subtract_columns(ctx.ywp, s.col, s.theta, np, n, m.residual);
  m.model_indicator[0] = m.model_indicator[1] = 0.0;
  for (int i = 0; i < s.k; ++i) {
    const double amp = s.theta[2 * i];
    if (write_amp) m.amp[i] = amp;
    m.amp_err[i] = std::sqrt(std::max(var[2 * i], 0.0));
    m.tau_err[i] = std::sqrt(std::max(var[2 * i + 1], 0.0)) / std::max(std::fabs(amp), m.amp_err[i] + 1e-300);
    for (int p = 0; p < ctx.space->nindicator; ++p) {
      const double ef = s.phase[i] < 0 ? s.eb[i].ef[p] : ctx.table->ind_f_at(s.phase[i])[p];
      const double ed = s.phase[i] < 0 ? s.eb[i].ed[p] : ctx.table->ind_d_at(s.phase[i])[p];
      m.model_indicator[p] += s.theta[2 * i] * ef + s.theta[2 * i + 1] * ed;
    }
  }
}

bool solve_at(const FitContext& ctx, PulseModel& m, bool exact, bool with_stats, Solution& s) {
  const int n = ctx.nsamples;
  const int k = m.npulses;
  const int np = 2 * k;
  const double** col = s.col;
  int* phase = s.phase;
  for (int i = 0; i < k; ++i) {
    if (exact || ctx.table == nullptr) {
      exact_basis(*ctx.shape, *ctx.space, m.tau[i], s.eb[i]);
      col[2 * i] = s.eb[i].f;
      col[2 * i + 1] = s.eb[i].d;
      s.base[i] = m.tau[i];
      phase[i] = -1;
    } else {
      const int p = ctx.table->nearest(m.tau[i]);
      col[2 * i] = ctx.table->f_row(p);
      col[2 * i + 1] = ctx.table->d_row(p);
      s.base[i] = ctx.table->tau_of(p);
      phase[i] = p;
    }
  }
  double* nm = s.factor;
  double* rhs = s.rhs;
  if (phase[0] >= 0 && ctx.dots != nullptr) {
    // Same values as the loop below, from the table and the per-waveform memo.
    const PhaseTable& t = *ctx.table;
    for (int i = 0; i < k; ++i) {
      const int a = 2 * i;
      rhs[a] = ctx.dots->f_dot_y(phase[i]);
      rhs[a + 1] = ctx.dots->d_dot_y(phase[i]);
      const double* g = t.normal_at(phase[i]);
      nm[a * np + a] = g[0];
      nm[(a + 1) * np + a] = nm[a * np + a + 1] = g[1];
      nm[(a + 1) * np + a + 1] = g[2];
      for (int j = 0; j < i; ++j) {
        const int b = 2 * j;
        double c[4];
        ctx.dots->cross(phase[i], phase[j], c);
        nm[a * np + b] = nm[b * np + a] = c[0];
        nm[a * np + b + 1] = nm[(b + 1) * np + a] = c[1];
        nm[(a + 1) * np + b] = nm[b * np + a + 1] = c[2];
        nm[(a + 1) * np + b + 1] = nm[(b + 1) * np + a + 1] = c[3];
      }
    }
  } else {
    for (int a = 0; a < np; ++a) {
      rhs[a] = dot(col[a], ctx.yw, n);
      for (int b = 0; b <= a; ++b) nm[a * np + b] = nm[b * np + a] = dot(col[a], col[b], n);
    }
  }
  // A pulse whose time the window barely constrains (the pure exponential tail of a pulse
  // long before the window: its template and derivative columns are almost parallel) makes
  // the Gauss-Newton step blow up along that direction, typically into a huge negative
  // amplitude that gets the pulse dropped. When the shift is determined worse than the step
  // limit, it gets a Levenberg-Marquardt damping of that size: the step stays bounded and
  // the amplitude is fitted as at a fixed time. A converged solution (zero shift) is the same
  // with or without damping; well-constrained pulses are not damped at all.
  const double step_limit = kMaxStepSamples * ctx.shape->sampling_ns();
  for (int i = 0; i < k; ++i) {
    const int a = 2 * i;
    s.damping[i] = 0.0;
    const double ff = nm[a * np + a], fd = nm[a * np + a + 1], dd = nm[(a + 1) * np + a + 1];
    if (!(ff > 0.0)) continue;
    const double amp2 = std::max(m.amp[i] * m.amp[i], 1e-12);
    const double shift_information = (dd - fd * fd / ff) * amp2;  // 1 / var(time shift), ns^-2
    if (shift_information * step_limit * step_limit < 1.0) {
      s.damping[i] = 1.0 / (amp2 * step_limit * step_limit);
      nm[(a + 1) * np + a + 1] += s.damping[i];
    }
  }
  if (!block_ldl_factor(nm, k)) return false;
  block_ldl_solve(nm, k, rhs, s.theta);
  s.np = np;
  s.k = k;
  for (int a = 0; a < np; ++a)
    if (!std::isfinite(s.theta[a])) return false;
  if (with_stats) write_stats(ctx, m, s, true);
  return true;
}

// Moves every pulse by its Gauss-Newton step, drops the ones whose amplitude is not positive
// and merges pulses closer than a quarter sample. Returns whether the set of pulses changed.
bool apply_step(const FitContext& ctx, PulseModel& m, const Solution& s, double& max_move) {
  const double dt = ctx.shape->sampling_ns();
  bool changed = false;
  max_move = 0.0;
  // A pulse whose amplitude turned non-positive is dropped, but only the worst one per step:
  // from a rough start several amplitudes can dip below zero together before recovering.
  // Amplitudes far beyond the ADC range (a tail from long before the window blown up to
  // mimic a pedestal) are just as unphysical.
  auto badness = [&](double amp) { return amp > ctx.max_amplitude ? amp : (amp > 0.0 ? 0.0 : 1e300 - amp); };
  int drop = -1;
  for (int i = 0; i < m.npulses; ++i) {
    const double b = badness(s.theta[2 * i]);
    if (b > 0.0 && (drop < 0 || b > badness(s.theta[2 * drop]))) drop = i;
  }
  int kept = 0;
  for (int i = 0; i < m.npulses; ++i) {
    const double amp = s.theta[2 * i];
    if (i == drop) {
      changed = true;
      continue;
    }
    if (badness(amp) > 0.0) {  // keep it where it is for the next solve
      m.amp[kept] = m.amp[i];
      m.tau[kept] = m.tau[i];
      ++kept;
      continue;
    }
    // Steps beyond ~0.4 sample leave the linear regime and can jump pulses across each other.
    const double tau = clampd(s.base[i] + clampd(s.theta[2 * i + 1] / amp, -kMaxStepSamples * dt, kMaxStepSamples * dt),
                              ctx.tau_lo, ctx.tau_hi);
    max_move = std::max(max_move, std::fabs(tau - m.tau[i]));
    m.amp[kept] = amp;
    m.tau[kept] = tau;
    ++kept;
  }
  m.npulses = kept;
  // insertion sort by time (a handful of pulses)
  for (int i = 1; i < m.npulses; ++i)
    for (int j = i; j > 0 && m.tau[j] < m.tau[j - 1]; --j) {
      std::swap(m.tau[j], m.tau[j - 1]);
      std::swap(m.amp[j], m.amp[j - 1]);
    }
  int out = 0;
  for (int i = 0; i < m.npulses; ++i) {
    if (out > 0 && m.tau[i] - m.tau[out - 1] < 0.25 * dt) {
      const double a = m.amp[out - 1] + m.amp[i];
      m.tau[out - 1] = (m.amp[out - 1] * m.tau[out - 1] + m.amp[i] * m.tau[i]) / a;
      m.amp[out - 1] = a;
      changed = true;
      continue;
    }
    m.amp[out] = m.amp[i];
    m.tau[out] = m.tau[i];
    ++out;
  }
  m.npulses = out;
  return changed;
}

}  // namespace

bool refine_pulses(const FitContext& ctx, PulseModel& m, double tolerance_ns, int max_exact, bool same_phase_only) {
  m.on_table_converged = false;
  if (m.npulses <= 0) return false;
  Solution s;
  double max_move = 0.0;
  if (ctx.table != nullptr) {
    // Coarse: columns from the phase table. With max_exact == 0 (models under test) the
    // table's resolution is enough: the linear shift term absorbs the phase error to first
    // order, leaving chi2 errors far below any decision threshold.
    const int coarse_its = 4;
    for (int it = 0; it < coarse_its; ++it) {
      int phase_before[kMaxPulses];
      for (int i = 0; i < m.npulses; ++i) phase_before[i] = ctx.table->nearest(m.tau[i]);
      const int k_before = m.npulses;
      // Models under test take the statistics of the solve after which no pulse moves beyond
      // the neighbouring phase (that solve is the answer, no separate statistics solve is
      // needed): to rank models its linearisation is good enough over that distance (the
      // shift term absorbs it to first order), and demanding the very same phase made a
      // pulse whose optimum sits on a phase boundary hop between the two until the
      // iterations ran out. Such a model is not on_table_converged: the one that is kept
      // is settled on the same phase (same_phase_only), where the neglected second-order
      // term no longer shows in the chi2 of large pulses.
      const bool with_stats = max_exact == 0;
      const int phase_slack = with_stats && !same_phase_only ? 1 : 0;
      if (!solve_at(ctx, m, false, false, s)) {
        if (m.npulses <= 1) return false;
        drop_weakest(m);
        continue;
      }
      // apply_step keeps the amplitude of a pulse it cannot move yet: the fresh one.
      if (with_stats)
        for (int i = 0; i < m.npulses; ++i) m.amp[i] = s.theta[2 * i];
      const bool changed = apply_step(ctx, m, s, max_move);
      if (m.npulses == 0) return false;
      bool same_phase = !changed && m.npulses == k_before;
      bool exactly = true;
      double var[kMaxParams];
      bool have_var = false;
      for (int i = 0; same_phase && i < m.npulses; ++i) {
        const int hop = std::abs(ctx.table->nearest(m.tau[i]) - phase_before[i]);
        if (hop > phase_slack) {
          // A trial's first step is its pulses' way there (not an arrival), and beyond a
          // couple of phases a step is not one of the swings below either.
          if ((it == 0 && !same_phase_only) || hop > kArrivalHops) {
            same_phase = false;
            exactly = false;
            continue;
          }
          // A pulse whose step is small against its own time error has arrived however many
          // phases it still moves: a small pulse's flat chi2 makes its steps swing across a
          // phase boundary and back until the iterations run out, and all it could still gain
          // in chi2 is (kArrivedSigma)^2.
          if (!have_var) {
            block_ldl_inverse_diagonal(s.factor, s.k, var);
            have_var = true;
          }
          const double shift = s.theta[2 * i + 1];
          if (!(shift * shift <= kArrivedSigma * kArrivedSigma * var[2 * i + 1])) {
            same_phase = false;
            exactly = false;
          }
          continue;
        }
        exactly = exactly && hop == 0;
      }
      if (same_phase && with_stats) {
        write_stats(ctx, m, s, false);
        m.on_table_converged = exactly;
        return true;
      }
      if (same_phase) break;
    }
    if (max_exact == 0) {
      // Out of iterations: hopping between neighbouring phases counts as arrived, a pulse
      // still taking long steps does not.
      const bool arrived = max_move <= 2.0 * ctx.table->step;
      for (int pass = 0; pass <= kMaxPulses; ++pass) {
        if (!solve_at(ctx, m, false, true, s)) {
          if (m.npulses <= 1) return false;
          drop_weakest(m);
          continue;
        }
        int worst = -1;
        for (int i = 0; i < m.npulses; ++i)
          if ((!(m.amp[i] > 0.0) || m.amp[i] > ctx.max_amplitude) && (worst < 0 || !(m.amp[i] > 0.0))) worst = i;
        if (worst < 0) {
          m.on_table_converged = arrived;
          return true;
        }
        if (m.npulses <= 1) return false;
        for (int i = worst; i + 1 < m.npulses; ++i) {
          m.amp[i] = m.amp[i + 1];
          m.tau[i] = m.tau[i + 1];
        }
        --m.npulses;
      }
      return false;
    }
  }
  if (max_exact == 0) max_exact = 3;  // no table: the exact template is the only option
  for (int pass = 0; pass <= kMaxPulses; ++pass) {
    for (int it = 0; it < max_exact; ++it) {
      if (!solve_at(ctx, m, true, false, s)) {
        if (m.npulses <= 1) return false;
        drop_weakest(m);
        continue;
      }
      const bool changed = apply_step(ctx, m, s, max_move);
      if (m.npulses == 0) return false;
      if (!changed && max_move < tolerance_ns) break;
    }
    while (!solve_at(ctx, m, true, true, s)) {
      if (m.npulses <= 1) return false;
      drop_weakest(m);
    }
    // The statistics solve may still leave a non-positive pulse: drop it and refine again.
    int worst = -1;
    for (int i = 0; i < m.npulses; ++i)
      if ((!(m.amp[i] > 0.0) || m.amp[i] > ctx.max_amplitude) && (worst < 0 || !(m.amp[i] > 0.0))) worst = i;
    if (worst < 0) return true;
    if (m.npulses <= 1) return false;
    for (int i = worst; i + 1 < m.npulses; ++i) {
      m.amp[i] = m.amp[i + 1];
      m.tau[i] = m.tau[i + 1];
    }
    --m.npulses;
  }
  return false;
}

}  // namespace na64::waveform
