// The free fit of one window: the start time from its largest sample (or clipped run), the
// single-pulse fit, and the pile-up search where the prefilter finds the single pulse
// suspicious.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "waveform/fit_internal.hpp"
#include "waveform/fit_model.hpp"
#include "waveform/fit_workspace.hpp"
#include "waveform/waveform_fitter.hpp"
#include "waveform/window_scan.hpp"

namespace na64::waveform {

namespace {

// The unmasked sample the furthest above its parity's rough pedestal among the first `end`
// samples (-1 when all are masked).
int largest_sample_before(const double* y, const unsigned char* mask, const double base[2], int end) {
  int best = -1;
  double best_v = -std::numeric_limits<double>::infinity();
  for (int k = 0; k < end; ++k)
    if (!mask[k] && y[k] - base[k & 1] > best_v) {
      best_v = y[k] - base[k & 1];
      best = k;
    }
  return best;
}

}  // namespace

bool WaveformFitter::fit_free(const double* raw, const double* y, const unsigned char* mask, bool any_masked,
                              bool fit_pedestal, bool prepared, const Variant& variant, FitWorkspace& ws,
                              FitContext& ctx, uint32_t& flags, PulseModel& model, bool& edge_retry) const {
  const int n = cfg_.nsamples;
  const double dt = cfg_.sampling_ns;
  // Starting time: the largest sample above a rough pedestal (parabola through its
  // neighbours), or the middle of a saturated run.
  double base[2] = {0.0, 0.0};
  if (fit_pedestal && !any_masked) {
    // The loop below with nothing masked (n >= 8): the first two samples of each parity.
    base[0] = (y[0] + y[2]) / 2;
    base[1] = (y[1] + y[3]) / 2;
  } else if (fit_pedestal) {
    int cnt[2] = {0, 0};
    for (int k = 0; k < n && (cnt[0] < 2 || cnt[1] < 2); ++k)
      if (!mask[k] && cnt[k % 2] < 2) {
        base[k % 2] += y[k];
        ++cnt[k % 2];
      }
    for (int p = 0; p < 2; ++p) base[p] = cnt[p] ? base[p] / cnt[p] : 0.0;
  }
  int kmax = -1, kmin = -1;
  double ymax = -1e300, ymin = 1e300;
  const bool packed = !any_masked && scan::extremes_packed(y, n, base, kmax, ymax, kmin, ymin);
  // (the mask is all clear when nothing is masked)
  for (int k = 0; !packed && k < n; ++k) {
    if (mask[k]) continue;
    const double v = y[k] - base[k & 1];
    if (v > ymax) {
      ymax = v;
      kmax = k;
    }
    if (v < ymin) {
      ymin = v;
      kmin = k;
    }
  }
  // A dip much deeper than the highest bump, measured from the median (the leading samples
  // may sit on a tail): fit it as a (negative) pulse, to be flagged.
  double polarity = 1.0;
  if (kmin != -1 && -ymin > 2.0 * std::max(ymax, 0.0) + 5.0 * detail::noise_sigma(cfg_)) {
    double median[2];
    for (int parity = 0; parity < 2; ++parity) {
      double sorted[kMaxSamples];
      int m = 0;
      for (int k = parity; k < n; k += 2)
        if (!mask[k]) sorted[m++] = y[k];
      if (m == 0) {
        median[parity] = 0.0;
        continue;
      }
      std::nth_element(sorted, sorted + m / 2, sorted + m);
      median[parity] = sorted[m / 2];
    }
    double lo = 0.0, hi = 0.0;
    for (int k = 0; k < n; ++k)
      if (!mask[k]) {
        lo = std::min(lo, y[k] - median[k % 2]);
        hi = std::max(hi, y[k] - median[k % 2]);
      }
    if (-lo > 2.0 * hi + 5.0 * detail::noise_sigma(cfg_)) polarity = -1.0;
  }
  if (polarity < 0) {
    if (kmin == scan::kFirstUnknown) {
      kmin = scan::first_equal(y, n, base, ymin);
      ymin = y[kmin] - base[kmin & 1];  // the first one's own value (+0 or -0)
    }
    kmax = kmin;
    ymax = ymin;
  }
  // A window whose largest sample is one of its last two holds the rising edge of a pulse
  // peaking after it: a single pulse started there is a poor, often singular fit (its
  // template and derivative columns are nearly one), and a failed single fit lost the
  // whole window. A significant pulse before the edge is the start instead; the pile-up
  // search adds the edge from the residual.
  // (the largest sample before the edge; -1 when the largest sample is not at the edge)
  int before_edge = polarity > 0.0 && kmax >= n - 2 ? largest_sample_before(y, mask, base, n - 2) : -1;
  if (before_edge >= 0 && !(flags & kSaturated) &&
      y[before_edge] - base[before_edge & 1] >= detail::kEdgeStartSigma * detail::noise_sigma(cfg_)) {
    kmax = before_edge;
    ymax = y[before_edge] - base[before_edge & 1];
    before_edge = -1;
  }
  double tau0 = kmax >= 0 ? kmax * dt : 0.0;
  if (kmax > 0 && kmax + 1 < n && !mask[kmax - 1] && !mask[kmax + 1]) {
    const double ym = y[kmax - 1] - base[(kmax - 1) % 2], yp = y[kmax + 1] - base[(kmax + 1) % 2];
    const double curv = ym - 2.0 * ymax + yp;
    if (curv * polarity < 0.0) tau0 += dt * std::clamp(0.5 * (ym - yp) / curv, -0.5, 0.5);
  }
  if (flags & kSaturated) {
    int best_len = 0, best_start = 0;
    for (int k = 0; k < n;) {
      if (!(mask[k] && raw[k] >= cfg_.saturation_adc)) {
        ++k;
        continue;
      }
      int e = k;
      while (e < n && mask[e] && raw[e] >= cfg_.saturation_adc) ++e;
      if (e - k > best_len) {
        best_len = e - k;
        best_start = k;
      }
      k = e;
    }
    tau0 = (best_start + 0.5 * (best_len - 1)) * dt;
  }

  // Whitened data last: the start-time search above is a chain of dependent compares, and
  // this independent arithmetic overlaps with its end instead of delaying its start.
  if (!prepared) {
    prepare_context(ctx, y);
    ctx.dots = nullptr;
    if (ctx.table != nullptr) {
      ws.dots.begin(*ctx.table, ctx.yw);
      ctx.dots = &ws.dots;
    }
  }

  // The phase scan matters for small pulses, whose start the noise moves, and for templates
  // with a second valley; a window that turns out suspicious is checked against it below.
  const bool scan_first = any_masked || !variant.scan_free || polarity < 0.0 ||
                          !(ymax >= detail::kScanFreePeakSigma * detail::noise_sigma(cfg_));
  if (!fit_single(ctx, tau0, polarity, ctx.exact_polish, model, scan_first)) {
    // Started on an edge with no significant pulse before it (the rule above did not apply):
    // the window holds noise and the start of a pulse after it. Fitted from its largest
    // sample before the edge instead, it comes out as no pulse, or the search adds the edge.
    // (If that fit too is drawn to the edge and fails, the window holds no pulse of its own:
    // "no pulse" is the model the search starts from.)
    const int k_alt = before_edge;
    if (k_alt < 0) return false;
    if (!fit_single(ctx, k_alt * dt, polarity, ctx.exact_polish, model, true)) {
      model.npulses = 1;
      model.amp[0] = model.amp_err[0] = model.tau_err[0] = 0.0;
      model.tau[0] = k_alt * dt;
      model.chi2 = ctx.ypy;
      model.model_indicator[0] = model.model_indicator[1] = 0.0;
      std::memcpy(model.residual, ctx.ywp, sizeof(double) * static_cast<std::size_t>(n));
    }
    edge_retry = true;
  }
  const int ndf_single = ctx.space->nused - ctx.space->npedestal - 2;

  // Pile-up prefilter: chi2 too large, or a positive bump left in the residual.
  // A significant negative excursion is reported as such, not explained by positive pulses.
  // (a noise fit pushed below zero by a large edge is no dip: the search describes the edge)
  const bool negative =
      !(flags & kSaturated) && !edge_retry && model.amp[0] < -cfg_.min_significance * model.amp_err[0];
  if (cfg_.pileup && ndf_single > 2 && !negative) {
    bool suspicious = model_suspicious(ctx, model);
    // The pile-up search starts from the single pulse of the phase scan, which a template
    // with one chi2 valley skips above: its start decides where a second pulse is looked for
    // (the scan's start gave the smaller amplitude errors of pulse pairs 25 ns apart). Where
    // the scan picks the valley the fit ended in, the fit stands.
    if (suspicious && !scan_first && !scan_confirms(ctx, tau0, polarity, model)) {
      PulseModel scanned;
      if (fit_single(ctx, tau0, polarity, ctx.exact_polish, scanned, /*scan=*/true)) {
        model = scanned;
        suspicious = model_suspicious(ctx, model);
      }
    }
    if (suspicious) {
      const Dictionary* dict = &variant.dict;
      if (any_masked) {
        if (ws.space.white && variant.dict.can_derive_masked())
          ws.dict.derive_masked(variant.dict, ws.space);
        else
          ws.dict.build(shape_, ws.space, tau_lo_, tau_hi_, cfg_.dictionary_step_ns, /*lazy=*/true);
        dict = &ws.dict;
      }
      if (ws.scratch.size() < 2 * static_cast<size_t>(dict->natoms)) ws.scratch.resize(2 * static_cast<size_t>(dict->natoms));
      resolve_pileup(ctx, *dict, ws.scratch.data(), model);
    }
  }

  return true;
}

}  // namespace na64::waveform
