// Pile-up search: fast path for one extra pulse, NNLS over the shifted-template dictionary,
// best-first forward selection, backward elimination and residual-driven additions; the
// repairs of the model it leaves are in pileup_repair.cpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "waveform/fit_internal.hpp"
#include "waveform/small_linalg.hpp"
#include "waveform/nnls.hpp"

namespace na64::waveform {

using namespace detail;

namespace {

// Every pulse stands out of the noise by itself: (amplitude / error)^2 >= dchi2, except
// pulses within exempt_ns of exempt_tau (NaN: none).
bool all_significant(const PulseModel& m, double dchi2, double exempt_tau = std::numeric_limits<double>::quiet_NaN(),
                     double exempt_ns = 0.0) {
  for (int i = 0; i < m.npulses; ++i) {
    if (std::fabs(m.tau[i] - exempt_tau) <= exempt_ns) continue;
    const double z = m.amp[i] / std::max(m.amp_err[i], 1e-300);
    if (!(z * z >= dchi2)) return false;
  }
  return true;
}

// Time of a pulse found at dictionary atom j (scoring s_best against the residual; score:
// correlation / atom norm): the vertex of the parabola through the scores of j and its two
// neighbours, within half a step of atom j; the atom's own time at either end of the
// dictionary. Starting the joint refit there instead of on the dictionary grid saves it
// about one Gauss-Newton round. score(i) gives the neighbours' scores.
template <class Score>
double vertex_time(const Dictionary& dict, int j, double s_best, Score score) {
  const double tau = dict.tau_of(j);
  if (j <= 0 || j + 1 >= dict.natoms) return tau;
  const double s_minus = score(j - 1), s_plus = score(j + 1);
  const double curv = s_minus - 2.0 * s_best + s_plus;
  return curv < 0.0 ? tau + dict.step * clampd(0.5 * (s_minus - s_plus) / curv, -0.5, 0.5) : tau;
}

// Appends to m the dictionary atom best correlated with the residual among those peaking
// near the residual's largest two-sample bump (for a bump at the start of the window: any
// earlier atom too, a tail from before it). False when no atom would gain a quarter of dchi2.
// atom: the atom looked at (-1 when none).
bool add_atom_near_bump(const FitContext& ctx, const Dictionary& dict, const double* residual, double dchi2,
                        PulseModel& m, int& atom) {
  const int n = ctx.nsamples;
  const double dt = ctx.shape->sampling_ns();
  int kb = 0;
  double bump = -1e300;
  for (int q = 0; q + 1 < n; ++q)
    if (residual[q] + residual[q + 1] > bump) {
      bump = residual[q] + residual[q + 1];
      kb = q;
    }
  const double lo = kb <= 2 ? dict.tau_lo : (kb - 3) * dt, hi = (kb + 3) * dt;
  const int j_lo = std::max(0, static_cast<int>(std::floor((lo - dict.tau_lo) / dict.step)));
  const int j_hi = std::min(dict.natoms - 1, static_cast<int>(std::ceil((hi - dict.tau_lo) / dict.step)));
  int best = -1;
  double best_score = 0.0, best_c = 0.0;
  for (int j = j_lo; j <= j_hi; ++j) {
    const double c = dot_sized(dict.atom(j), residual, n);
    if (c * dict.inv_norm(j) > best_score) {
      best_score = c * dict.inv_norm(j);
      best = j;
      best_c = c;
    }
  }
  atom = best;
  if (best < 0 || best_score * best_score < 0.25 * dchi2 || m.npulses >= kMaxPulses) return false;
  m.amp[m.npulses] = best_c * dict.inv_norm(best) * dict.inv_norm(best);
  auto score = [&](int j) { return dot_sized(dict.atom(j), residual, n) * dict.inv_norm(j); };
  m.tau[m.npulses] = vertex_time(dict, best, best_score, score);
  ++m.npulses;
  return true;
}

// Whether some atom away from atom `skip` (and its neighbours) would gain at least a quarter
// of dchi2 on the residual by itself: the test with which the search below stops adding
// pulses. corr: scratch of dict.natoms doubles.
bool any_atom_elsewhere(const FitContext& ctx, const Dictionary& dict, const PulseModel& single, int skip,
                        double dchi2, double* corr) {
  auto atom = [&dict](int j) { return dict.atom(j); };
  dots_against(atom, dict.natoms, single.residual, ctx.nsamples, corr);
  int best = -1;
  double best_score = 0.0;
  for (int j = 0; j < dict.natoms; ++j) {
    if (skip >= 0 && std::abs(j - skip) <= 1) continue;
    const double score = corr[j] * dict.inv_norm(j);
    if (score > best_score) {
      best_score = score;
      best = j;
    }
  }
  if (best < 0 || best_score * best_score < 0.25 * dchi2) return false;
  // The best of them, refitted with the lone pulse: on noise it gains too little, and the
  // full search would end where it started.
  PulseModel trial = single;
  trial.amp[1] = corr[best] * dict.inv_norm(best) * dict.inv_norm(best);
  trial.tau[1] = dict.tau_of(best);
  trial.npulses = 2;
  return refine_pulses(ctx, trial, kTrialNs, 0) && trial.npulses == 2 && single.chi2 - trial.chi2 >= dchi2;
}

// A trial refinement stops after a few table iterations, or once no pulse leaves its
// neighbouring phase: enough to rank models, but a pulse started far from its place (steps
// are clamped to 0.4 sample) can be left short of it. The accepted model continues from
// where it stopped until every pulse stays on its phase (a converged one is left as it is).
void settle_on_table(const FitContext& ctx, PulseModel& m) {
  for (int pass = 0; pass < 3 && !m.on_table_converged; ++pass) {
    PulseModel next = m;
    if (!refine_pulses(ctx, next, kTrialNs, 0, /*same_phase_only=*/true) || next.npulses != m.npulses) return;
    m = next;
  }
}

// An accepted model's last step: polished on the exact template where the context asks for
// it (or has no table), else settled on the table (a polish that changes the pulse count is
// not taken).
void finish_accepted(const FitContext& ctx, PulseModel& m) {
  if (ctx.exact_polish || ctx.table == nullptr) {
    PulseModel polished = m;
    if (refine_pulses(ctx, polished, kConvergedNs, 6) && polished.npulses == m.npulses) m = polished;
  } else {
    settle_on_table(ctx, m);
  }
}

}  // namespace

// Backward elimination: drops the pulse whose removal costs the least chi2 (all others
// refitted) while that cost is below pileup_dchi2 and more than `keep` pulses remain; a local
// (Wald) test would keep pulses that only split one true pulse between them.
void drop_unneeded_pulses(const FitContext& ctx, PulseModel& m, int keep) {
  while (m.npulses > keep) {
    PulseModel best_trial;
    double best_cost = 1e300;
    for (int r = 0; r < m.npulses; ++r) {
      PulseModel trial = m;
      for (int i = r; i + 1 < trial.npulses; ++i) {
        trial.amp[i] = trial.amp[i + 1];
        trial.tau[i] = trial.tau[i + 1];
      }
      --trial.npulses;
      if (!refine_pulses(ctx, trial, kTrialNs, 0)) continue;
      const double cost = trial.chi2 - m.chi2;
      if (cost < best_cost) {
        best_cost = cost;
        best_trial = trial;
      }
    }
    if (best_cost >= ctx.cfg->pileup_dchi2) return;
    m = best_trial;
  }
}

void add_pulses_from_residual(const FitContext& ctx, const Dictionary& dict, double* corr, PulseModel& cand,
                              double exempt_tau) {
  // Adds the dictionary pulse that best explains the residual while the chi2 gain is
  // significant; a few atoms are tried per round. corr holds the atoms' correlations with
  // the residual, computed once per residual rather than once per atom tried.
  const FitterConfig& cfg = *ctx.cfg;
  const int n = ctx.nsamples;
  const int natoms = dict.natoms;
  const int max_pulses = std::min(cfg.max_pulses, kMaxPulses);
  auto atom = [&dict](int j) { return dict.atom(j); };
  while (cand.npulses < max_pulses && model_suspicious(ctx, cand)) {
    bool added = false;
    int tried[3];
    int ntried = 0;
    dots_against(atom, natoms, cand.residual, n, corr);
    while (!added && ntried < 3) {
      int best = -1;
      double best_score = 0.0, best_c = 0.0;
      for (int j = 0; j < natoms; ++j) {
        bool near_tried = false;
        for (int t = 0; t < ntried; ++t) near_tried = near_tried || std::abs(j - tried[t]) <= 1;
        if (near_tried) continue;
        const double c = corr[j];
        const double score = c * dict.inv_norm(j);
        if (score > best_score) {
          best_score = score;
          best = j;
          best_c = c;
        }
      }
      if (best < 0 || best_score * best_score < 0.25 * cfg.pileup_dchi2) break;
      tried[ntried++] = best;
      PulseModel trial = cand;
      trial.amp[trial.npulses] = best_c * dict.inv_norm(best) * dict.inv_norm(best);
      trial.tau[trial.npulses] = vertex_time(dict, best, best_score, [&](int j) { return corr[j] * dict.inv_norm(j); });
      ++trial.npulses;
      if (!refine_pulses(ctx, trial, kTrialNs, 0) || trial.npulses <= cand.npulses) continue;
      if (cand.chi2 - trial.chi2 < cfg.pileup_dchi2) continue;
      if (!all_significant(trial, cfg.pileup_dchi2, exempt_tau, 0.25 * ctx.shape->sampling_ns())) continue;
      cand = trial;
      added = true;
    }
    if (!added) break;
  }
}

namespace {

// The search itself (resolve_pileup: then the mirrored pairs).
void search_pileup(const FitContext& ctx, const Dictionary& dict, double* scratch, PulseModel& m) {
  const FitterConfig& cfg = *ctx.cfg;
  const int n = ctx.nsamples;
  const int natoms = dict.natoms;
  const int max_pulses = std::min(cfg.max_pulses, kMaxPulses);
  const PulseModel single = m;
  const bool single_valid = single.npulses == 1 && single.amp[0] > 0.0 && single.amp[0] <= ctx.max_amplitude;
  auto chi2_suspicious = [&](const PulseModel& pm) { return model_suspicious(ctx, pm); };
  // Fast path for the common case of one extra pulse (or a few): the dictionary atom
  // best matching the residual near its largest bump, refitted with the pulses found so far,
  // repeated while the model stays suspicious and every addition gains the required chi2.
  // The result is accepted only if it leaves nothing suspicious (and, beyond a pair, every
  // pulse is significant on its own); otherwise the full NNLS search below decides.
  if (single_valid) {
    PulseModel current = single;
    int first_atom = -1;
    while (current.npulses < max_pulses) {
      PulseModel trial = current;
      int atom = -1;
      const bool added = add_atom_near_bump(ctx, dict, current.residual, cfg.pileup_dchi2, trial, atom);
      if (current.npulses == 1) first_atom = atom;
      if (!added) break;
      if (!refine_pulses(ctx, trial, kTrialNs, 0) || trial.npulses != current.npulses + 1 ||
          current.chi2 - trial.chi2 < cfg.pileup_dchi2)
        break;
      if (trial.npulses > 2 && !all_significant(trial, cfg.pileup_dchi2)) break;
      if (!chi2_suspicious(trial)) {
        finish_accepted(ctx, trial);
        m = trial;
        return;
      }
      current = trial;
    }
    // Nothing could be added to the lone pulse at its residual's largest bump, its chi2 is
    // not far above its ndf, and no atom elsewhere passes the stopping test of the search
    // below: the prefilter fired on noise (about 1 % of isolated pulses by its design), and
    // the search would almost always end where it starts, at the single pulse. (Without the
    // chi2 condition two pulses of 10 sigma 25 ns apart, which the single fit covers with one,
    // were resolved ~1 % less often.)
    const int ndf = ctx.space->nused - ctx.space->npedestal - 2;
    if (current.npulses == 1 && single.chi2 < ndf + cfg.pileup_dchi2 &&
        !any_atom_elsewhere(ctx, dict, single, first_atom, cfg.pileup_dchi2, scratch))
      return;
  }
  double* b = scratch;
  double* w = scratch + natoms;
  auto atom = [&dict](int j) { return dict.atom(j); };
  dots_against(atom, natoms, ctx.yw, n, b);
  NnlsResult nn;
  nnls_gram(dict, b, kNnlsTolerance, std::min(kMaxActive, max_pulses + 3), w, nn);
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
        cand.amp_err[cand.npulses] = sx / std::max(dict.inv_norm(nn.index[best]), 1e-300);
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
  ncand = std::min(ncand, 3);
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

  // Backward (with two pulses the greedy step has just verified the second one).
  drop_unneeded_pulses(ctx, cand, 2);

  // Forward: pulses the NNLS merged or missed, from the residual. The NNLS scratch is free
  // again and holds the atoms' correlations with the residual.
  add_pulses_from_residual(ctx, dict, w, cand, std::numeric_limits<double>::quiet_NaN());

  if (cand.npulses == 0 || (single_valid && cand.npulses >= 2 && single.chi2 - cand.chi2 < cfg.pileup_dchi2))
    cand = single;
  if (cand.npulses >= 1) split_merged_pulses(ctx, cand);
  // The table fit leaves errors of order (phase step)^2: far below the resolution of piled-up
  // pulses. exact_refinement polishes them on the exact template in continuous time.
  if (cand.npulses >= 2) finish_accepted(ctx, cand);
  m = cand;
}

}  // namespace

void resolve_pileup(const FitContext& ctx, const Dictionary& dict, double* scratch, PulseModel& m) {
  search_pileup(ctx, dict, scratch, m);
  if (m.npulses < 2 || !mirror_close_pairs(ctx, m)) return;
  finish_accepted(ctx, m);
}

}  // namespace na64::waveform
