// Whitened data of one window and the single-pulse fit (phase scan, optimal filter on the
// phase table, curvature-corrected or exact Gauss-Newton last step).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "waveform/fit_internal.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

using namespace detail;

namespace {

// r = ywp - a1 f - a2 d, four samples per step with GCC/Clang vector types (same operations).
void linear_residual(const double* ywp, double a1, const double* f, double a2, const double* d, int n, double* r) {
  int q = 0;
#if defined(__GNUC__) || defined(__clang__)
  using linalg_detail::load_quad;
  using linalg_detail::quad;
  const quad c1 = {a1, a1, a1, a1}, c2 = {a2, a2, a2, a2};
#pragma GCC unroll 4
  for (; q + 4 <= n; q += 4) {
    const quad v = load_quad(ywp + q) - c1 * load_quad(f + q) - c2 * load_quad(d + q);
    std::memcpy(r + q, &v, sizeof(quad));
  }
#endif
  for (; q < n; ++q) r[q] = ywp[q] - a1 * f[q] - a2 * d[q];
}

}  // namespace

void read_back_pedestals(const FitContext& ctx, const PulseModel& m, double ped[2]) {
  const SampleSpace& sp = *ctx.space;
  const double* g = sp.indicator_gram;
  double r[2] = {0, 0};
  for (int a = 0; a < sp.nindicator; ++a) r[a] = ctx.indicator_y[a] - m.model_indicator[a];
  double p[2] = {0.0, 0.0};
  if (sp.nindicator == 2) {
    const double det = g[0] * g[3] - g[1] * g[2];
    if (std::fabs(det) > 1e-300) {
      p[0] = (g[3] * r[0] - g[1] * r[1]) / det;
      p[1] = (g[0] * r[1] - g[2] * r[0]) / det;
    }
  } else if (sp.nindicator == 1 && g[0] > 0.0) {
    p[0] = r[0] / g[0];
  }
  for (int a = 0; a < sp.nindicator; ++a) ped[sp.indicator_parity[a]] = p[a];
  if (sp.nindicator == 1) ped[1 - sp.indicator_parity[0]] = p[0];
}

void prepare_context(FitContext& ctx, const double* y) {
  const int n = ctx.nsamples;
  const SampleSpace& sp = *ctx.space;
  if (sp.parity_means) {
    // Two partial sums per parity and four for ypy: a single accumulator per sum makes the
    // additions one serial dependency chain, which dominated this function. Sum l takes the
    // samples k = l (mod 4); with GCC/Clang vector types the sums 0, 1 and 2, 3 are the
    // lanes of two pairs (even, odd): the same operations in the same order, half the
    // instructions.
    double se0 = 0.0, so0 = 0.0, se1 = 0.0, so1 = 0.0;
    int k = 0;
#if defined(__GNUC__) || defined(__clang__)
    typedef double pair __attribute__((vector_size(16)));
    const pair inv = {sp.inv_sigma, sp.inv_sigma};
    pair s01 = {0.0, 0.0}, s23 = {0.0, 0.0};
    for (; k + 4 <= n; k += 4) {
      pair y01, y23;
      std::memcpy(&y01, y + k, sizeof(pair));
      std::memcpy(&y23, y + k + 2, sizeof(pair));
      y01 *= inv;
      y23 *= inv;
      std::memcpy(ctx.yw + k, &y01, sizeof(pair));
      std::memcpy(ctx.yw + k + 2, &y23, sizeof(pair));
      s01 += y01;
      s23 += y23;
    }
    se0 = s01[0];
    so0 = s01[1];
    se1 = s23[0];
    so1 = s23[1];
#else
    for (; k + 4 <= n; k += 4) {
      ctx.yw[k] = y[k] * sp.inv_sigma;
      ctx.yw[k + 1] = y[k + 1] * sp.inv_sigma;
      ctx.yw[k + 2] = y[k + 2] * sp.inv_sigma;
      ctx.yw[k + 3] = y[k + 3] * sp.inv_sigma;
      se0 += ctx.yw[k];
      so0 += ctx.yw[k + 1];
      se1 += ctx.yw[k + 2];
      so1 += ctx.yw[k + 3];
    }
#endif
    for (; k < n; ++k) {
      ctx.yw[k] = y[k] * sp.inv_sigma;
      (k & 1 ? so0 : se0) += ctx.yw[k];
    }
    const double sum[2] = {se0 + se1, so0 + so1};
    const double mean[2] = {sum[0] / ((n + 1) / 2), sum[1] / (n / 2)};
    double q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
    k = 0;
#if defined(__GNUC__) || defined(__clang__)
    const pair m01 = {mean[0], mean[1]};
    pair q01 = {0.0, 0.0}, q23 = {0.0, 0.0};
    for (; k + 4 <= n; k += 4) {
      pair v01, v23;
      std::memcpy(&v01, ctx.yw + k, sizeof(pair));
      std::memcpy(&v23, ctx.yw + k + 2, sizeof(pair));
      v01 -= m01;
      v23 -= m01;
      std::memcpy(ctx.ywp + k, &v01, sizeof(pair));
      std::memcpy(ctx.ywp + k + 2, &v23, sizeof(pair));
      q01 += v01 * v01;
      q23 += v23 * v23;
    }
    q0 = q01[0];
    q1 = q01[1];
    q2 = q23[0];
    q3 = q23[1];
#else
    for (; k + 4 <= n; k += 4) {
      ctx.ywp[k] = ctx.yw[k] - mean[0];
      ctx.ywp[k + 1] = ctx.yw[k + 1] - mean[1];
      ctx.ywp[k + 2] = ctx.yw[k + 2] - mean[0];
      ctx.ywp[k + 3] = ctx.yw[k + 3] - mean[1];
      q0 += ctx.ywp[k] * ctx.ywp[k];
      q1 += ctx.ywp[k + 1] * ctx.ywp[k + 1];
      q2 += ctx.ywp[k + 2] * ctx.ywp[k + 2];
      q3 += ctx.ywp[k + 3] * ctx.ywp[k + 3];
    }
#endif
    for (; k < n; ++k) {
      ctx.ywp[k] = ctx.yw[k] - mean[k & 1];
      q0 += ctx.ywp[k] * ctx.ywp[k];
    }
    ctx.ypy = (q0 + q1) + (q2 + q3);
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

namespace {

// A lone pulse peaks near or inside the window; tails of pulses long before it are the
// pile-up search's business (with a free pedestal they are nearly degenerate with it).
double single_start(const FitContext& ctx, double tau0) {
  return clampd(tau0, std::max(ctx.tau_lo, -2.0 * ctx.shape->sampling_ns()), ctx.tau_hi);
}

// Phases the scan looks at: every `stride` phases over +-1 sample around tau's phase.
int scan_stride(const FitContext& ctx) {
  return std::max(1, static_cast<int>(ctx.shape->sampling_ns() * ctx.table->inv_step + 0.5) / 2);
}

// The phase scan: the amplitude-only fit (one dot product) at the phases over +-1 sample
// around tau's; the phase with the largest chi2 reduction.
int scan_phase(const FitContext& ctx, double tau, double polarity) {
  const PhaseTable& t = *ctx.table;
  const int p0 = t.nearest(tau);
  const int stride = scan_stride(ctx);
  const int span = 2 * stride;
  double best_gain = -1.0;
  int best_p = p0;
  for (int p = std::max(0, p0 - span); p <= std::min(t.nphase - 1, p0 + span); p += stride) {
    const double b1 = ctx.dots->f_dot_y(p);
    const double gain = b1 * polarity > 0.0 ? b1 * b1 * t.inv_ff_at(p) : 0.0;  // chi2 reduction
    if (gain > best_gain) {
      best_gain = gain;
      best_p = p;
    }
  }
  return best_p;
}

}  // namespace

bool scan_confirms(const FitContext& ctx, double tau0, double polarity, const PulseModel& m) {
  if (ctx.table == nullptr || m.npulses != 1) return false;
  const int best = scan_phase(ctx, single_start(ctx, tau0), polarity);
  return std::abs(ctx.table->nearest(m.tau[0]) - best) <= scan_stride(ctx) / 2;
}

bool fit_single(const FitContext& ctx, double tau0, double polarity, bool exact_refinement, PulseModel& m,
                bool scan) {
  const int n = ctx.nsamples;
  const double dt = ctx.shape->sampling_ns();
  struct {
    double tau_lo, tau_hi;
  } const c{std::max(ctx.tau_lo, -2.0 * dt), ctx.tau_hi};
  double tau = single_start(ctx, tau0);
  if (ctx.table != nullptr) {
    // Optimal filter: amplitude and amplitude x time shift from the nearest phase's
    // precomputed coefficients; a couple of hops bring the phase next to the answer.
    const PhaseTable& t = *ctx.table;
    // Scan the amplitude-only fit over +-1 sample around the start (one dot product per
    // phase): short pulses sampled every 12.5 ns have a second, shallower chi2 minimum a
    // fraction of a sample away, and Gauss-Newton must start in the right valley.
    if (scan) tau = t.tau_of(scan_phase(ctx, tau, polarity));
    for (int it = 0; it < 5; ++it) {
      const int p = t.nearest(tau);
      const double* f = t.f_row(p);
      const double* d = t.d_row(p);
      const double b1 = ctx.dots->f_dot_y(p), b2 = ctx.dots->d_dot_y(p);
      const double* mi = t.minv_at(p);
      double a1 = mi[0] * b1 + mi[1] * b2, a2 = mi[1] * b1 + mi[2] * b2;
      const bool last = it == 4;
      if (!(a1 * polarity > 0.0) || !(mi[0] > 0.0)) break;
      const double next = clampd(t.tau_of(p) + clampd(a2 / a1, -dt, dt), c.tau_lo, c.tau_hi);
      // The curvature step below is a second-order correction for a small remaining shift.
      // A fit still hopping after the last hop (a small pulse, or noise) takes it for a shift
      // up to kCurvatureMaxShiftNs; beyond that, or held at the end of the time range while it
      // wants beyond it, Gauss-Newton on the exact template decides: with a shift of a sample
      // the step had turned flat noise into pulses of thousands of ADC counts (and 90 sigma).
      if (t.nearest(next) != p && !last) {
        tau = next;
        continue;
      }
      if (!(std::fabs(a2 / a1) <= kCurvatureMaxShiftNs)) {
        tau = next;
        break;
      }
      if (!exact_refinement) {
        // Converged on the table (or nearly). The remaining shift is small, so one
        // Gauss-Newton step with the curvature term from the table replaces the exact
        // template: A T(t - tau_p - dtau) ~ A (T - dtau T' + dtau^2/2 T''), whose last term
        // the linear solution absorbs as (A dtau^2/2) u; removing it leaves O(dtau^3).
        const double shift = a2 / a1;
        const double c2 = 0.5 * a1 * shift * shift;
        const double* u = t.curv_u_at(p);
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
                                   c2 * c2 * t.curv_perp2_at(p));
        for (int q = 0; q < ctx.space->nindicator; ++q)
          m.model_indicator[q] = a1 * t.ind_f_at(p)[q] + a2 * t.ind_d_at(p)[q] + c2 * t.ind_s_at(p)[q];
        linear_residual(ctx.ywp, a1, f, a2, d, n, m.residual);
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
    // The residual of every solve, not only of the last: the next iteration can stop at a
    // singular basis (a pulse pushed to the edge of its time range), and the answer is then
    // this solve, residual included.
    for (int q = 0; q < n; ++q) m.residual[q] = ctx.ywp[q] - a1 * b.f[q] - a2 * b.d[q];
    if (!(a1 * polarity > 0.0)) break;  // no pulse of the expected sign: the shift a2/a1 means nothing
    const double next = clampd(tau + clampd(a2 / a1, -dt, dt), c.tau_lo, c.tau_hi);
    const double moved = next - tau;
    // Out of iterations: the answer is this solve, at the time it was made (moving the time
    // after the last solve paired a time with another time's amplitude: on noise, pulses of
    // thousands of ADC counts beside a window of flat samples).
    if (it + 1 == max_exact && !(std::fabs(moved) < (exact_refinement ? kConvergedNs : kSingleStopNs))) break;
    tau = next;
    m.tau[0] = tau;
    if (std::fabs(moved) < (exact_refinement ? kConvergedNs : kSingleStopNs)) break;
  }
  return solved;
}

}  // namespace na64::waveform
