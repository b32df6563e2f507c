#include "waveform/fit_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "waveform/small_linalg.hpp"

namespace na64::waveform {

namespace {

constexpr double kConvergedNs = 1e-3;   // stop Gauss-Newton when no time moves more than this
constexpr double kTrialNs = 0.02;       // looser convergence for models under test
// One Gauss-Newton step from a shift below this leaves errors of order shift^2 * T''/T'
// (< 1e-3 ns and < 1e-5 relative amplitude for the default templates): no further step.
constexpr double kSingleStopNs = 0.05;
constexpr double kNnlsTolerance = 2.5;  // atoms enter the NNLS above this correlation (sigmas)

double clampd(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Linear least squares of the whitened data on the columns (template, -derivative) of every
// pulse at its current time (exact template, or nearest table phase).
struct Solution {
  int np = 0;
  double theta[kMaxParams];
  double base[kMaxPulses];  // the times the columns were evaluated at
};

bool solve_at(const FitContext& ctx, PulseModel& m, bool exact, bool with_stats, Solution& s) {
  const int n = ctx.nsamples;
  const int k = m.npulses;
  const int np = 2 * k;
  const double* col[kMaxParams];
  ExactBasis eb[kMaxPulses];
  for (int i = 0; i < k; ++i) {
    if (exact || ctx.table == nullptr) {
      exact_basis(*ctx.shape, *ctx.space, m.tau[i], eb[i]);
      col[2 * i] = eb[i].f;
      col[2 * i + 1] = eb[i].d;
      s.base[i] = m.tau[i];
    } else {
      const int p = ctx.table->nearest(m.tau[i]);
      col[2 * i] = ctx.table->f_row(p);
      col[2 * i + 1] = ctx.table->d_row(p);
      s.base[i] = ctx.table->tau_of(p);
    }
  }
  int phase[kMaxPulses];
  for (int i = 0; i < k; ++i) phase[i] = (exact || ctx.table == nullptr) ? -1 : ctx.table->nearest(m.tau[i]);
  double nm[kMaxParams * kMaxParams], rhs[kMaxParams];
  for (int a = 0; a < np; ++a) {
    rhs[a] = dot(col[a], ctx.yw, n);
    for (int b = 0; b <= a; ++b) nm[a * np + b] = nm[b * np + a] = dot(col[a], col[b], n);
  }
  if (!cholesky(nm, np, np)) return false;
  cholesky_solve(nm, np, np, rhs, s.theta);
  s.np = np;
  for (int a = 0; a < np; ++a)
    if (!std::isfinite(s.theta[a])) return false;
  if (!with_stats) return true;

  double var[kMaxParams];
  cholesky_inverse_diagonal(nm, np, np, var);
  m.chi2 = std::max(0.0, ctx.ypy - dot(s.theta, rhs, np));
  std::memcpy(m.residual, ctx.ywp, sizeof(double) * static_cast<size_t>(n));
  for (int a = 0; a < np; ++a)
    for (int q = 0; q < n; ++q) m.residual[q] -= s.theta[a] * col[a][q];
  m.model_indicator[0] = m.model_indicator[1] = 0.0;
  for (int i = 0; i < k; ++i) {
    const double amp = s.theta[2 * i];
    m.amp[i] = amp;
    m.amp_err[i] = std::sqrt(std::max(var[2 * i], 0.0));
    m.tau_err[i] = std::sqrt(std::max(var[2 * i + 1], 0.0)) / std::max(std::fabs(amp), m.amp_err[i] + 1e-300);
    for (int p = 0; p < ctx.space->nindicator; ++p) {
      const double ef = phase[i] < 0 ? eb[i].ef[p] : ctx.table->ind_f[2 * static_cast<std::size_t>(phase[i]) + p];
      const double ed = phase[i] < 0 ? eb[i].ed[p] : ctx.table->ind_d[2 * static_cast<std::size_t>(phase[i]) + p];
      m.model_indicator[p] += s.theta[2 * i] * ef + s.theta[2 * i + 1] * ed;
    }
  }
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
    const double tau =
        clampd(s.base[i] + clampd(s.theta[2 * i + 1] / amp, -0.4 * dt, 0.4 * dt), ctx.tau_lo, ctx.tau_hi);
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

void drop_weakest(PulseModel& m) {
  int w = 0;
  for (int i = 1; i < m.npulses; ++i)
    if (m.amp[i] < m.amp[w]) w = i;
  for (int i = w; i + 1 < m.npulses; ++i) {
    m.amp[i] = m.amp[i + 1];
    m.tau[i] = m.tau[i + 1];
  }
  --m.npulses;
}

}  // namespace

void prepare_context(FitContext& ctx, const double* y) {
  const int n = ctx.nsamples;
  const SampleSpace& sp = *ctx.space;
  if (sp.parity_means) {
    double sum[2] = {0.0, 0.0};
    for (int k = 0; k < n; ++k) {
      ctx.yw[k] = y[k] * sp.inv_sigma;
      sum[k & 1] += ctx.yw[k];
    }
    const double mean[2] = {sum[0] / ((n + 1) / 2), sum[1] / (n / 2)};
    double ypy = 0.0;
    for (int k = 0; k < n; ++k) {
      ctx.ywp[k] = ctx.yw[k] - mean[k & 1];
      ypy += ctx.ywp[k] * ctx.ywp[k];
    }
    ctx.ypy = ypy;
    ctx.indicator_y[0] = sum[0] * sp.inv_sigma;
    ctx.indicator_y[1] = sum[1] * sp.inv_sigma;
    return;
  }
  for (int a = 0; a < sp.nindicator; ++a) ctx.indicator_y[a] = 0.0;
  ctx.space->whiten(y, ctx.yw);
  for (int a = 0; a < sp.nindicator; ++a) ctx.indicator_y[a] = dot(sp.indicator[a], ctx.yw, n);
  std::memcpy(ctx.ywp, ctx.yw, sizeof(double) * static_cast<size_t>(n));
  ctx.space->project(ctx.ywp);
  ctx.ypy = dot(ctx.ywp, ctx.ywp, n);
}

bool fit_single(const FitContext& ctx, double tau0, double polarity, bool exact_refinement, PulseModel& m) {
  const int n = ctx.nsamples;
  const double dt = ctx.shape->sampling_ns();
  // A lone pulse peaks near or inside the window; tails of pulses long before it are the
  // pile-up search's business (with a free pedestal they are nearly degenerate with it).
  struct {
    double tau_lo, tau_hi;
  } const c{std::max(ctx.tau_lo, -2.0 * dt), ctx.tau_hi};
  double tau = clampd(tau0, c.tau_lo, c.tau_hi);
  if (ctx.table != nullptr) {
    // Optimal filter: amplitude and amplitude x time shift from the nearest phase's
    // precomputed coefficients; a couple of hops bring the phase next to the answer.
    const PhaseTable& t = *ctx.table;
    // Scan the amplitude-only fit over +-1 sample around the start (one dot product per
    // phase): short pulses sampled every 12.5 ns have a second, shallower chi2 minimum a
    // fraction of a sample away, and Gauss-Newton must start in the right valley.
    {
      const int p0 = t.nearest(tau);
      const int span = static_cast<int>(dt * t.inv_step + 0.5);
      const int stride = std::max(1, span / 2);
      double best_gain = -1.0;
      int best_p = p0;
      for (int p = std::max(0, p0 - span); p <= std::min(t.nphase - 1, p0 + span); p += stride) {
        const double b1 = dot(t.f_row(p), ctx.yw, n);
        const double gain = b1 * polarity > 0.0 ? b1 * b1 * t.inv_ff[p] : 0.0;  // chi2 reduction
        if (gain > best_gain) {
          best_gain = gain;
          best_p = p;
        }
      }
      tau = t.tau_of(best_p);
    }
    for (int it = 0; it < 5; ++it) {
      const int p = t.nearest(tau);
      const double* f = t.f_row(p);
      const double* d = t.d_row(p);
      const double b1 = dot(f, ctx.yw, n), b2 = dot(d, ctx.yw, n);
      const double* mi = &t.minv[3 * static_cast<size_t>(p)];
      double a1 = mi[0] * b1 + mi[1] * b2, a2 = mi[1] * b1 + mi[2] * b2;
      const bool last = it == 4;
      if (!(a1 * polarity > 0.0) || !(mi[0] > 0.0)) break;
      const double next = clampd(t.tau_of(p) + clampd(a2 / a1, -dt, dt), c.tau_lo, c.tau_hi);
      if (t.nearest(next) != p && !last) {
        tau = next;
        continue;
      }
      if (!exact_refinement) {
        // Converged on the table. The remaining shift is below half a phase step, so one
        // Gauss-Newton step with the curvature term from the table replaces the exact
        // template: A T(t - tau_p - dtau) ~ A (T - dtau T' + dtau^2/2 T''), whose last term
        // the linear solution absorbs as (A dtau^2/2) u; removing it leaves O(dtau^3).
        const double shift = a2 / a1;
        const double c2 = 0.5 * a1 * shift * shift;
        const double* u = &t.curv_u[2 * static_cast<size_t>(p)];
        a1 -= c2 * u[0];
        a2 -= c2 * u[1];
        m.npulses = 1;
        m.amp[0] = a1;
        m.tau[0] = clampd(t.tau_of(p) + a2 / a1, c.tau_lo, c.tau_hi);
        m.amp_err[0] = std::sqrt(mi[0]);
        m.tau_err[0] = std::sqrt(mi[2]) / std::max(std::fabs(a1), m.amp_err[0]);
        // The linear residual holds c2 times the part of T'' that F and D cannot explain;
        // the curvature term removes it from the chi2 as well.
        m.chi2 = std::max(0.0, ctx.ypy - (a1 * b1 + a2 * b2) - c2 * (u[0] * b1 + u[1] * b2) -
                                   c2 * c2 * t.curv_perp2[static_cast<size_t>(p)]);
        for (int q = 0; q < ctx.space->nindicator; ++q)
          m.model_indicator[q] = a1 * t.ind_f[2 * p + q] + a2 * t.ind_d[2 * p + q] + c2 * t.ind_s[2 * p + q];
        for (int q = 0; q < n; ++q) m.residual[q] = ctx.ywp[q] - a1 * f[q] - a2 * d[q];
        return true;
      }
      tau = next;
      break;
    }
  }
  // Gauss-Newton on the exact (interpolated) template, continuous time.
  ExactBasis b;
  bool solved = false;
  const int max_exact = ctx.table != nullptr && !exact_refinement ? 4 : 12;
  m.npulses = 1;
  for (int it = 0; it < max_exact; ++it) {
    exact_basis(*ctx.shape, *ctx.space, tau, b);
    const double m11 = dot(b.f, b.f, n), m12 = dot(b.f, b.d, n), m22 = dot(b.d, b.d, n);
    const double det = m11 * m22 - m12 * m12;
    if (!(m11 > 1e-12) || !(det > 1e-12 * m11 * m22)) break;
    const double b1 = dot(b.f, ctx.yw, n), b2 = dot(b.d, ctx.yw, n);
    const double i11 = m22 / det, i12 = -m12 / det, i22 = m11 / det;
    const double a1 = i11 * b1 + i12 * b2, a2 = i12 * b1 + i22 * b2;
    if (!std::isfinite(a1) || !std::isfinite(a2)) break;
    solved = true;
    m.amp[0] = a1;
    m.tau[0] = tau;
    m.amp_err[0] = std::sqrt(i11);
    m.tau_err[0] = std::sqrt(i22) / std::max(std::fabs(a1), m.amp_err[0]);
    m.chi2 = std::max(0.0, ctx.ypy - (a1 * b1 + a2 * b2));
    for (int p = 0; p < ctx.space->nindicator; ++p) m.model_indicator[p] = a1 * b.ef[p] + a2 * b.ed[p];
    if (!(a1 * polarity > 0.0)) {
      for (int q = 0; q < n; ++q) m.residual[q] = ctx.ywp[q] - a1 * b.f[q] - a2 * b.d[q];
      break;  // no pulse of the expected sign: the shift a2/a1 means nothing
    }
    const double next = clampd(tau + clampd(a2 / a1, -dt, dt), c.tau_lo, c.tau_hi);
    const double moved = next - tau;
    tau = next;
    m.tau[0] = tau;
    if (std::fabs(moved) < (exact_refinement ? kConvergedNs : kSingleStopNs) || it + 1 == max_exact) {
      for (int q = 0; q < n; ++q) m.residual[q] = ctx.ywp[q] - a1 * b.f[q] - a2 * b.d[q];
      break;
    }
  }
  return solved;
}

bool refine_pulses(const FitContext& ctx, PulseModel& m, double tolerance_ns, int max_exact) {
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
      // Models under test keep the statistics of every solve: once no pulse changes phase,
      // the last solve is the answer and no separate statistics solve is needed.
      const bool with_stats = max_exact == 0;
      if (!solve_at(ctx, m, false, with_stats, s)) {
        if (m.npulses <= 1) return false;
        drop_weakest(m);
        continue;
      }
      const bool changed = apply_step(ctx, m, s, max_move);
      if (m.npulses == 0) return false;
      bool same_phase = !changed && m.npulses == k_before;
      for (int i = 0; same_phase && i < m.npulses; ++i) same_phase = ctx.table->nearest(m.tau[i]) == phase_before[i];
      if (same_phase && with_stats) return true;
      if (same_phase) break;
    }
    if (max_exact == 0) {
      for (int pass = 0; pass <= kMaxPulses; ++pass) {
        if (!solve_at(ctx, m, false, true, s)) {
          if (m.npulses <= 1) return false;
          drop_weakest(m);
          continue;
        }
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

void resolve_pileup(const FitContext& ctx, const Dictionary& dict, double* scratch, PulseModel& m) {
  const FitterConfig& cfg = *ctx.cfg;
  const int n = ctx.nsamples;
  const int natoms = dict.natoms;
  const int max_pulses = std::min(cfg.max_pulses, kMaxPulses);
  const PulseModel single = m;
  const bool single_valid = single.npulses == 1 && single.amp[0] > 0.0 && single.amp[0] <= ctx.max_amplitude;
  auto chi2_suspicious = [&](const PulseModel& pm) {
    const int ndf = ctx.space->nused - ctx.space->npedestal - 2 * pm.npulses;
    if (ndf > 0 && pm.chi2 > ndf + cfg.pileup_chi2_sigma * std::sqrt(2.0 * ndf)) return true;
    const double bump = cfg.pileup_residual_sigma * std::sqrt(2.0);
    for (int q = 0; q + 1 < n; ++q)
      if (pm.residual[q] + pm.residual[q + 1] > bump) return true;
    return false;
  };
  // Fast path for the common case of one extra pulse: the dictionary atom best matching the
  // single fit's residual, refitted with it. Accepted only if the pair gains the required
  // chi2 and leaves nothing suspicious; otherwise the full NNLS search below decides.
  if (single_valid) {
    // Only atoms peaking near the largest residual bump can be the missing pulse (or, for a
    // bump at the start of the window, a tail from before it).
    const double dt = ctx.shape->sampling_ns();
    int kb = 0;
    double bump = -1e300;
    for (int q = 0; q + 1 < n; ++q)
      if (single.residual[q] + single.residual[q + 1] > bump) {
        bump = single.residual[q] + single.residual[q + 1];
        kb = q;
      }
    const double lo = kb <= 2 ? dict.tau_lo : (kb - 3) * dt, hi = (kb + 3) * dt;
    const int j_lo = std::max(0, static_cast<int>(std::floor((lo - dict.tau_lo) / dict.step)));
    const int j_hi = std::min(natoms - 1, static_cast<int>(std::ceil((hi - dict.tau_lo) / dict.step)));
    int best = -1;
    double best_score = 0.0, best_c = 0.0;
    for (int j = j_lo; j <= j_hi; ++j) {
      const double c = dot(dict.atom(j), single.residual, n);
      if (c * dict.inv_norm[j] > best_score) {
        best_score = c * dict.inv_norm[j];
        best = j;
        best_c = c;
      }
    }
    if (best >= 0 && best_score * best_score >= 0.25 * cfg.pileup_dchi2) {
      PulseModel pair = single;
      pair.amp[1] = best_c * dict.inv_norm[best] * dict.inv_norm[best];
      pair.tau[1] = dict.tau_of(best);
      pair.npulses = 2;
      if (refine_pulses(ctx, pair, kTrialNs, 0) && pair.npulses == 2 &&
          single.chi2 - pair.chi2 >= cfg.pileup_dchi2 && !chi2_suspicious(pair)) {
        if (cfg.exact_refinement || ctx.table == nullptr) {
          PulseModel polished = pair;
          if (refine_pulses(ctx, polished, kConvergedNs, 6) && polished.npulses == 2) pair = polished;
        }
        m = pair;
        return;
      }
    }
  }
  double* b = scratch;
  double* w = scratch + natoms;
  for (int j = 0; j < natoms; ++j) b[j] = dot(dict.atom(j), ctx.yw, n);
  NnlsResult nn;
  nnls_gram(dict.gram.data(), b, dict.inv_norm.data(), natoms, kNnlsTolerance,
            std::min(kMaxActive, max_pulses + 3), w, nn);
  // Atoms in time order, values alongside.
  for (int i = 1; i < nn.nactive; ++i)
    for (int j = i; j > 0 && nn.index[j] < nn.index[j - 1]; --j) {
      std::swap(nn.index[j], nn.index[j - 1]);
      std::swap(nn.value[j], nn.value[j - 1]);
    }
  // Merge neighbouring atoms into pulses, largest first: an atom absorbs its immediate
  // neighbours (a pulse between two dictionary times lights up both), so two pulses a few
  // atoms apart stay two candidates even when noise lights the atoms between them.
  PulseModel cand;
  {
    unsigned char taken[kMaxActive] = {};
    for (;;) {
      int best = -1;
      for (int i = 0; i < nn.nactive; ++i)
        if (!taken[i] && (best < 0 || nn.value[i] > nn.value[best])) best = i;
      if (best < 0 || cand.npulses >= kMaxPulses) break;
      double sx = 0.0, stx = 0.0;
      for (int i = std::max(0, best - 1); i <= std::min(nn.nactive - 1, best + 1); ++i) {
        if (taken[i] || std::abs(nn.index[i] - nn.index[best]) > 1) continue;
        taken[i] = 1;
        sx += nn.value[i];
        stx += nn.value[i] * dict.tau_of(nn.index[i]);
      }
      if (sx > 0.0) {
        cand.amp[cand.npulses] = sx;
        cand.tau[cand.npulses] = stx / sx;
        // how much of it the window sees, in noise sigmas: the order of the greedy search
        cand.amp_err[cand.npulses] = sx / std::max(dict.inv_norm[nn.index[best]], 1e-300);
        ++cand.npulses;
      }
    }
  }
  // Most visible first (a pulse far before the window may have a large amplitude but
  // leave only a small tail).
  for (int i = 1; i < cand.npulses; ++i)
    for (int j = i; j > 0 && cand.amp_err[j] > cand.amp_err[j - 1]; --j) {
      std::swap(cand.amp[j], cand.amp[j - 1]);
      std::swap(cand.tau[j], cand.tau[j - 1]);
      std::swap(cand.amp_err[j], cand.amp_err[j - 1]);
    }
  // Forward selection, best first: every round refits the model with each remaining
  // candidate added and keeps the one with the largest chi2 gain, if that gain reaches
  // pileup_dchi2 (starting from the single-pulse fit, which already explains the largest
  // pulse). Taking the first acceptable candidate instead can lock a small pulse into a
  // wrong place next to a large one.
  const double min_visible = 0.8 * std::sqrt(cfg.pileup_dchi2);
  int ncand = 0;
  while (ncand < cand.npulses && cand.amp_err[ncand] >= min_visible) ++ncand;  // sorted
  ncand = std::min(ncand, 4);
  unsigned char used_cand[kMaxPulses] = {};
  // Start from the single-pulse fit when it is physical; otherwise from "no pulse".
  PulseModel best = single;
  if (!single_valid) {
    best.npulses = 0;
    best.chi2 = ctx.ypy;
    std::memcpy(best.residual, ctx.ywp, sizeof(double) * static_cast<std::size_t>(n));
    best.model_indicator[0] = best.model_indicator[1] = 0.0;
  }
  while (best.npulses < max_pulses) {
    PulseModel best_trial;
    double best_gain = -1.0;
    int best_c = -1;
    for (int c = 0; c < ncand; ++c) {
      if (used_cand[c]) continue;
      bool near = false;
      for (int i = 0; i < best.npulses; ++i)
        near = near || std::fabs(best.tau[i] - cand.tau[c]) < 0.5 * ctx.shape->sampling_ns();
      if (near) {
        used_cand[c] = 1;
        continue;
      }
      PulseModel trial = best;
      trial.amp[trial.npulses] = cand.amp[c];
      trial.tau[trial.npulses] = cand.tau[c];
      ++trial.npulses;
      if (!refine_pulses(ctx, trial, kTrialNs, 0) || trial.npulses <= best.npulses) {
        used_cand[c] = 1;
        continue;
      }
      const double gain = best.chi2 - trial.chi2;
      if (gain > best_gain) {
        best_gain = gain;
        best_trial = trial;
        best_c = c;
      }
    }
    if (best_c < 0 || best_gain < cfg.pileup_dchi2) break;
    used_cand[best_c] = 1;
    best = best_trial;
  }
  cand = best;

  // Backward: drop the pulse whose removal costs the least chi2 (all others refitted) while
  // that cost is below the threshold; a local (Wald) test would keep pulses that only split
  // one true pulse between them.
  // With two pulses the greedy step has just verified the second one.
  while (cand.npulses > 2) {
    PulseModel best_trial;
    double best_cost = 1e300;
    for (int r = 0; r < cand.npulses; ++r) {
      PulseModel trial = cand;
      for (int i = r; i + 1 < trial.npulses; ++i) {
        trial.amp[i] = trial.amp[i + 1];
        trial.tau[i] = trial.tau[i + 1];
      }
      --trial.npulses;
      if (!refine_pulses(ctx, trial, kTrialNs, 0)) continue;
      const double cost = trial.chi2 - cand.chi2;
      if (cost < best_cost) {
        best_cost = cost;
        best_trial = trial;
      }
    }
    if (best_cost >= cfg.pileup_dchi2) break;
    cand = best_trial;
  }

  // Forward: add the dictionary pulse that best explains the residual while the chi2 gain
  // is significant (catches pulses the NNLS merged or missed); a few atoms are tried.
  while (cand.npulses < max_pulses && chi2_suspicious(cand)) {
    bool added = false;
    int tried[3];
    int ntried = 0;
    while (!added && ntried < 3) {
      int best = -1;
      double best_score = 0.0, best_c = 0.0;
      for (int j = 0; j < natoms; ++j) {
        bool near_tried = false;
        for (int t = 0; t < ntried; ++t) near_tried = near_tried || std::abs(j - tried[t]) <= 1;
        if (near_tried) continue;
        const double c = dot(dict.atom(j), cand.residual, n);
        const double score = c * dict.inv_norm[j];
        if (score > best_score) {
          best_score = score;
          best = j;
          best_c = c;
        }
      }
      if (best < 0 || best_score * best_score < 0.25 * cfg.pileup_dchi2) break;
      tried[ntried++] = best;
      PulseModel trial = cand;
      trial.amp[trial.npulses] = best_c * dict.inv_norm[best] * dict.inv_norm[best];
      trial.tau[trial.npulses] = dict.tau_of(best);
      ++trial.npulses;
      if (!refine_pulses(ctx, trial, kTrialNs, 0) || trial.npulses <= cand.npulses) continue;
      if (cand.chi2 - trial.chi2 < cfg.pileup_dchi2) continue;
      bool all_significant = true;
      for (int i = 0; i < trial.npulses; ++i) {
        const double z = trial.amp[i] / std::max(trial.amp_err[i], 1e-300);
        all_significant = all_significant && z * z >= cfg.pileup_dchi2;
      }
      if (!all_significant) continue;
      cand = trial;
      added = true;
    }
    if (!added) break;
  }

  if (cand.npulses == 0 || (single_valid && cand.npulses >= 2 && single.chi2 - cand.chi2 < cfg.pileup_dchi2))
    cand = single;
  // The table fit leaves errors of order (phase step)^2: far below the resolution of piled-up
  // pulses. exact_refinement polishes them on the exact template in continuous time.
  if (cand.npulses >= 2 && (cfg.exact_refinement || ctx.table == nullptr)) {
    PulseModel polished = cand;
    if (refine_pulses(ctx, polished, kConvergedNs, 6) && polished.npulses == cand.npulses) cand = polished;
  }
  m = cand;
}

}  // namespace na64::waveform
