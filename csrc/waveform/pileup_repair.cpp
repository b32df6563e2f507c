// Repairs of a pile-up model the search leaves: merged pulses split (halves, or the best
// pair on a fine grid), and close pairs tried mirrored.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "waveform/fit_internal.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

using namespace detail;

namespace {

// The best pair of pulses at least a sample apart, each within kPairReachSamples of pulse i,
// to replace pulse i and every other pulse within that reach (a pair the fit covered with one
// pulse and a stray beside it); the pulses farther away are held as fitted. Pulse times on a
// grid of kPairStepSamples (the dictionary's half-sample grid is too coarse for a fast
// template's edge: its best pair can straddle the truth), amplitudes by linear least squares,
// both positive. False when no pair qualifies.
bool best_pulse_pair(const FitContext& ctx, const PulseModel& m, int i, PulseModel& trial) {
  const int n = ctx.nsamples;
  const double dt = ctx.shape->sampling_ns();
  const double reach = kPairReachSamples * dt;
  double target[kMaxSamples];  // the residual with the pulses near pulse i put back
  alignas(16) double col[kPairTimes][kMaxSamples];
  std::memcpy(target, m.residual, sizeof(double) * static_cast<std::size_t>(n));
  trial = m;
  trial.npulses = 0;
  for (int g = 0; g < m.npulses; ++g) {
    if (std::fabs(m.tau[g] - m.tau[i]) > reach) {
      trial.amp[trial.npulses] = m.amp[g];
      trial.tau[trial.npulses] = m.tau[g];
      ++trial.npulses;
      continue;
    }
    exact_template(*ctx.shape, *ctx.space, m.tau[g], col[0]);
    for (int q = 0; q < n; ++q) target[q] += m.amp[g] * col[0][q];
  }
  if (trial.npulses + 2 > kMaxPulses) return false;
  // Grid times within the reach, their template columns, and the columns' dot products:
  // precomputed (pair_dict) for windows without masked samples, else computed here.
  const Dictionary* pd = ctx.pair_dict;
  const double step = pd != nullptr ? pd->step : kPairStepSamples * dt;
  const double t_first = pd != nullptr ? pd->tau_lo : ctx.tau_lo;
  const int c_lo = std::max(0, static_cast<int>(std::ceil((m.tau[i] - reach - t_first) / step - 1e-9)));
  int c_hi = static_cast<int>(std::floor((m.tau[i] + reach - t_first) / step + 1e-9));
  if (pd != nullptr) c_hi = std::min(c_hi, pd->natoms - 1);
  c_hi = std::min({c_hi, c_lo + kPairTimes - 1, static_cast<int>(std::floor((ctx.tau_hi - t_first) / step + 1e-9))});
  double tau[kPairTimes], corr[kPairTimes], norm2[kPairTimes];
  int atom_of[kPairTimes];
  int nt = 0;
  for (int c = c_lo; c <= c_hi; ++c) {
    const double t = t_first + c * step;
    if (pd != nullptr) {
      norm2[nt] = pd->row(c)[c];
      if (!(norm2[nt] > 0.0)) continue;
      corr[nt] = dot(pd->atom(c), target, n);
    } else {
      exact_template(*ctx.shape, *ctx.space, t, col[nt]);
      norm2[nt] = dot(col[nt], col[nt], n);
      if (!(norm2[nt] > 0.0)) continue;
      corr[nt] = dot(col[nt], target, n);
    }
    atom_of[nt] = c;
    tau[nt++] = t;
  }
  const int min_gap = static_cast<int>(std::ceil(dt / step - 1e-9));  // a sample apart
  double best_gain = 0.0, best_a = 0.0, best_b = 0.0;
  int best_j = -1, best_k = -1;
  for (int j = 0; j < nt; ++j) {
    const double* gram_j = pd != nullptr ? pd->row(atom_of[j]) : nullptr;
    for (int k = j + 1; k < nt; ++k) {
      if (atom_of[k] - atom_of[j] < min_gap) continue;
      const double gjj = norm2[j], gkk = norm2[k];
      const double gjk = gram_j != nullptr ? gram_j[atom_of[k]] : dot(col[j], col[k], n);
      const double det = gjj * gkk - gjk * gjk;
      if (!(det > 1e-9 * gjj * gkk)) continue;
      const double cj = corr[j], ck = corr[k];
      const double a = (gkk * cj - gjk * ck) / det, b = (gjj * ck - gjk * cj) / det;
      if (!(a > 0.0 && b > 0.0)) continue;
      const double gain = a * cj + b * ck;
      if (gain > best_gain) {
        best_gain = gain;
        best_j = j;
        best_k = k;
        best_a = a;
        best_b = b;
      }
    }
  }
  if (best_j < 0) return false;
  trial.amp[trial.npulses] = best_a;
  trial.tau[trial.npulses] = tau[best_j];
  trial.amp[trial.npulses + 1] = best_b;
  trial.tau[trial.npulses + 1] = tau[best_k];
  trial.npulses += 2;
  return true;
}

// The residual's chi2 over the samples from a sample and a half before tau to two and a half
// after it (a pulse's rise and peak, where a mis-placed neighbour shows).
double local_residual_chi2(const FitContext& ctx, const PulseModel& m, double tau) {
  const double dt = ctx.shape->sampling_ns();
  const int lo = std::max(0, static_cast<int>(std::ceil(tau / dt - 1.5)));
  const int hi = std::min(ctx.nsamples - 1, static_cast<int>(std::floor(tau / dt + 2.5)));
  double s = 0.0;
  for (int q = lo; q <= hi; ++q) s += m.residual[q] * m.residual[q];
  return s;
}

}  // namespace

// A model the search leaves still suspicious may hold two pulses merged into one: closer
// than about a sample, neither the residual's correlation with one more atom nor the
// dictionary's grid separates them, and each trial refinement pulls a pulse added next to
// the merged one back onto it. Each of the worst-described pulses (local_residual_chi2) is
// tried as a pair half a sample either side of it (half the amplitude each), and the best
// split that gains pileup_dchi2 is kept, while the model stays far off. The gain is the whole test: it is what dropping
// either half would cost (the refit of the rest is the merged model), and the halves'
// own significances are no guide when clipped samples hide their peaks (their amplitudes
// then correlate strongly). Simulated 3 MHz ECAL windows with two pulses 5-20 ns apart:
// merged pairs had been left with chi2 in the thousands.
//
// A split is tried only on models whose chi2 exceeds its degrees of freedom by twice
// pileup_dchi2 (a merged pair of large pulses leaves hundreds to thousands): most models the
// search leaves suspicious are a few sigma off, and refitting them cost 5 % of the fit time.
void split_merged_pulses(const FitContext& ctx, PulseModel& m) {
  const FitterConfig& cfg = *ctx.cfg;
  const int max_pulses = std::min(cfg.max_pulses, kMaxPulses);
  const double half = 0.5 * ctx.shape->sampling_ns();
  const int ndf0 = ctx.space->nused - ctx.space->npedestal;
  while (m.npulses < max_pulses && m.chi2 > ndf0 - 2 * m.npulses + 2.0 * cfg.pileup_dchi2) {
    // worst described first: the residual's chi2 over the samples each pulse shapes most
    double local[kMaxPulses];
    for (int i = 0; i < m.npulses; ++i) local[i] = local_residual_chi2(ctx, m, m.tau[i]);
    int order[kMaxPulses];
    for (int i = 0; i < m.npulses; ++i) {
      int j = i;
      for (; j > 0 && local[order[j - 1]] < local[i]; --j) order[j] = order[j - 1];
      order[j] = i;
    }
    PulseModel best;
    bool found = false;
    for (int r = 0; r < std::min(m.npulses, kSplitCandidates); ++r) {
      const int i = order[r];
      PulseModel trial = m;
      trial.amp[i] = 0.5 * m.amp[i];
      trial.tau[i] = clampd(m.tau[i] - half, ctx.tau_lo, ctx.tau_hi);
      trial.amp[trial.npulses] = 0.5 * m.amp[i];
      trial.tau[trial.npulses] = clampd(m.tau[i] + half, ctx.tau_lo, ctx.tau_hi);
      ++trial.npulses;
      // (the refit may drop a pulse the merged one had needed beside it: fewer, and better)
      const bool halves_ok = refine_pulses(ctx, trial, kTrialNs, 0) && m.chi2 - trial.chi2 >= cfg.pileup_dchi2;
      if (halves_ok && (!found || trial.chi2 < best.chi2)) {
        best = trial;
        found = true;
      }
      // Two pulses a couple of samples apart under a fast template: the merged pulse sits
      // between them, and halves started half a sample either side of it are pulled back
      // together by the template's steep edge. The best pair on a fine grid starts them where
      // they are.
      PulseModel pair;
      const bool halves_enough = halves_ok && trial.chi2 <= ndf0 - 2 * trial.npulses + 2.0 * cfg.pileup_dchi2;
      if (!halves_enough && best_pulse_pair(ctx, m, i, pair)) {
        if (refine_pulses(ctx, pair, kTrialNs, 0) && m.chi2 - pair.chi2 >= cfg.pileup_dchi2 &&
            (!found || pair.chi2 < best.chi2)) {
          best = pair;
          found = true;
        }
      }
      // a split that leaves the model good: the next largest pulse is not tried
      if (found && best.chi2 <= ndf0 - 2 * best.npulses + 2.0 * cfg.pileup_dchi2) break;
    }
    if (!found) return;
    // the split's refit moves every pulse: one the merged pulse had needed beside it may
    // now be superfluous (a 2 % satellite of a large pulse was seen kept)
    drop_unneeded_pulses(ctx, best, 1);
    if (!(best.chi2 < m.chi2)) return;
    m = best;
  }
}

// Two pulses less than a couple of samples apart, one much smaller: a fit can describe them
// almost as well with the small pulse on the wrong side of the large one (the large one
// moved towards where the small one really is), and no test of the search sees it: the chi2
// is acceptable, and the residual has no bump. The mirrored model (the small pulse as far on
// the other side) is refitted, and kept when it gains pileup_dchi2 (both have the same
// parameters; a smaller gain is a coin-flip between two descriptions of pulses a few ns
// apart, and one such flip made a fragment the anchor of a background event's master time).
// Simulated 3 MHz signal events: a 600 ADC in-time pulse 8-13 ns beside a 3,000 ADC pile-up
// pulse fitted on the wrong side (chi2 43 instead of 13 over 26 degrees of freedom) had put
// the master time on the pile-up particle.
bool mirror_close_pairs(const FitContext& ctx, PulseModel& m) {
  const double reach = kMirrorReachSamples * ctx.shape->sampling_ns();
  const double gain = ctx.cfg->pileup_dchi2;
  // only a model that a mirrored one could beat by `gain` and still describe the samples
  // no better than a good fit does (chi2 within two standard deviations below its ndf):
  // on the others a trial cannot pass, and trials on every close pair cost 20 % of the time
  // of simulated 3 MHz ECAL windows
  const int ndf = ctx.space->nused - ctx.space->npedestal - 2 * m.npulses;
  if (!(m.chi2 - gain > ndf - 2.0 * std::sqrt(2.0 * std::max(ndf, 1)))) return false;
  bool changed = false;
  for (int i = 0; i < m.npulses; ++i)
    for (int j = 0; j < m.npulses; ++j) {
      // j: the smaller pulse of a close pair, i: the larger
      if (i == j || !(m.amp[j] < m.amp[i]) || std::fabs(m.tau[j] - m.tau[i]) >= reach) continue;
      PulseModel trial = m;
      trial.tau[j] = clampd(2.0 * m.tau[i] - m.tau[j], ctx.tau_lo, ctx.tau_hi);
      if (!refine_pulses(ctx, trial, kTrialNs, 0) || trial.npulses != m.npulses || !(trial.chi2 <= m.chi2 - gain))
        continue;
      m = trial;
      changed = true;
    }
  return changed;
}

}  // namespace na64::waveform
