#include "waveform/waveform_fitter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.hpp"
#include "waveform/fit_internal.hpp"
#include "waveform/fit_model.hpp"
#include "waveform/fit_workspace.hpp"
#include "waveform/pedestal.hpp"
#include "waveform/small_linalg.hpp"
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

void check_config(const FitterConfig& c) {
  auto positive = [](double v, const char* name) {
    if (!(v > 0.0) || !std::isfinite(v)) throw InputError(concat(name, " must be positive and finite, got ", v));
  };
  positive(c.sampling_ns, "sampling_ns");
  positive(c.noise_rms, "noise_rms");
  positive(c.phase_step_ns, "phase_step_ns");
  positive(c.dictionary_step_ns, "dictionary_step_ns");
  positive(c.in_time_window_ns, "in_time_window_ns");
  positive(c.min_significance, "min_significance");
  positive(c.pileup_dchi2, "pileup_dchi2");
  positive(c.pileup_residual_sigma, "pileup_residual_sigma");
  if (!(c.pileup_chi2_sigma >= 0.0)) throw InputError(concat("pileup_chi2_sigma must be >= 0, got ", c.pileup_chi2_sigma));
  if (c.nsamples < 8 || c.nsamples > kMaxSamples)
    throw InputError(concat("windows of ", c.nsamples, " samples are not supported; expected 8 to ", kMaxSamples));
  if (!(c.pre_window_ns >= 0.0) || !(c.post_window_ns >= 0.0))
    throw InputError(concat("pre_window_ns and post_window_ns must be >= 0, got ", c.pre_window_ns, " and ",
                            c.post_window_ns));
  if (c.max_pulses < 1 || c.max_pulses > kMaxPulses)
    throw InputError(concat("max_pulses must be 1 to ", kMaxPulses, ", got ", c.max_pulses));
  if (c.leading_samples < 2 || c.leading_samples > c.nsamples)
    throw InputError(concat("leading_samples must be 2 to ", c.nsamples, ", got ", c.leading_samples));
  if (c.threads < 0) throw InputError(concat("threads must be >= 0 (0 = all cores), got ", c.threads));
  if (std::isnan(c.saturation_adc)) throw InputError("saturation_adc is NaN");
  if (!std::isnan(c.trigger_time_ns) && !std::isfinite(c.trigger_time_ns))
    throw InputError(concat("trigger_time_ns must be finite or NaN (none), got ", c.trigger_time_ns));
  if ((c.pre_window_ns + c.nsamples * c.sampling_ns + c.post_window_ns) / c.dictionary_step_ns > 2000)
    throw InputError(concat("dictionary_step_ns = ", c.dictionary_step_ns, " makes more than 2000 atoms"));
  if ((c.pre_window_ns + c.nsamples * c.sampling_ns + c.post_window_ns) / c.phase_step_ns > 100000)
    throw InputError(concat("phase_step_ns = ", c.phase_step_ns, " makes more than 100000 phases"));
}

double noise_sigma(const FitterConfig& c) {
  if (c.noise_covariance.empty()) return c.noise_rms;
  double s = 0.0;
  for (int k = 0; k < c.nsamples; ++k) s += c.noise_covariance[static_cast<size_t>(k) * c.nsamples + k];
  return std::sqrt(s / c.nsamples);
}

}  // namespace

WaveformFitter::WaveformFitter(const PulseTemplate& tpl, FitterConfig config)
    : tpl_(tpl), cfg_(std::move(config)), shape_(tpl, cfg_.sampling_ns) {
  check_config(cfg_);
  if (!cfg_.noise_covariance.empty()) check_covariance(cfg_.noise_covariance, cfg_.nsamples);
  noise_.rms = cfg_.noise_rms;
  noise_.covariance = cfg_.noise_covariance;
  tau_lo_ = -cfg_.pre_window_ns;
  tau_hi_ = (cfg_.nsamples - 1) * cfg_.sampling_ns + cfg_.post_window_ns;
  auto make_variant = [&](bool fit_pedestal) {
    auto v = std::make_unique<Variant>();
    if (!build_space(v->space, cfg_.nsamples, noise_, nullptr, fit_pedestal))
      throw InputError("cannot build the fit space for the configured window and noise");
    v->table.build(shape_, v->space, tau_lo_, tau_hi_, cfg_.phase_step_ns);
    v->dict.build(shape_, v->space, tau_lo_, tau_hi_, cfg_.dictionary_step_ns);
    v->pair_dict.build(shape_, v->space, tau_lo_, tau_hi_, detail::kPairStepSamples * cfg_.sampling_ns);
    v->scan_free = converges_without_scan(*v);
    return v;
  };
  with_pedestal_ = make_variant(true);  // also the fallback of the leading-sample mode
  if (cfg_.pedestal != PedestalMode::kFit) without_pedestal_ = make_variant(false);
}

WaveformFitter::~WaveformFitter() = default;

bool WaveformFitter::converges_without_scan(const Variant& v) const {
  const int n = cfg_.nsamples;
  const double dt = cfg_.sampling_ns;
  const PhaseTable& table = v.table;
  FitWorkspace ws;
  FitContext ctx;
  init_context(ctx);
  ctx.space = &v.space;
  ctx.table = &table;
  double y[kMaxSamples], slope[kMaxSamples];
  // every other phase of the window, from five starts over +-1 sample
  for (int p = 0; p < table.nphase; p += 2) {
    const double tau = table.tau_of(p);
    if (tau < 0.0 || tau > (n - 1) * dt) continue;
    shape_.eval_window(tau, n, y, slope, 1000.0);
    prepare_context(ctx, y);
    ws.dots.begin(table, ctx.yw);
    ctx.dots = &ws.dots;
    for (const double start : {-dt, -0.5 * dt, 0.0, 0.5 * dt, dt}) {
      PulseModel m;
      // starts inside the window, as fit_one's are
      const double tau0 = std::clamp(tau + start, 0.0, (n - 1) * dt);
      if (!fit_single(ctx, tau0, 1.0, false, m, /*scan=*/false) || !(std::fabs(m.tau[0] - tau) < 0.05))
        return false;
    }
  }
  return true;
}

void WaveformFitter::init_context(FitContext& ctx) const {
  ctx.cfg = &cfg_;
  ctx.shape = &shape_;
  ctx.nsamples = cfg_.nsamples;
  ctx.tau_lo = tau_lo_;
  ctx.tau_hi = tau_hi_;
  ctx.exact_polish = cfg_.exact_refinement;
  ctx.pair_dict = nullptr;
  // larger fitted amplitudes are unphysical: far beyond the ADC range
  ctx.max_amplitude = std::isfinite(cfg_.saturation_adc) && cfg_.saturation_adc > 0.0 ? 16.0 * cfg_.saturation_adc : 1e9;
}

void WaveformFitter::fit_one(const double* raw, int64_t wave, int nrecorded, const double* fixed_pedestal,
                             FitWorkspace& ws, const WaveOutputs& out, PulseColumns& pulses) const {
  const int n = cfg_.nsamples;
  const double dt = cfg_.sampling_ns;
  uint32_t flags = 0;
  double ybuf[kMaxSamples];  // the samples as fitted (masked ones zeroed, known pedestals removed)
  const double* y = ybuf;
  unsigned char mask[kMaxSamples];
  bool any_masked = false;
  // Common case first: every sample recorded, finite and below saturation, checked in one
  // branch-free pass; otherwise sample by sample.
  const bool clean = nrecorded >= n && scan::all_below(raw, n, cfg_.saturation_adc);
  if (clean) {
    // With the pedestals always fitted nothing is changed in the samples: no copy.
    if (cfg_.pedestal == PedestalMode::kFit)
      y = raw;
    else
      std::memcpy(ybuf, raw, sizeof(double) * static_cast<size_t>(n));
    std::memset(mask, 0, sizeof(mask));  // fixed size: a few stores, no library call
  }
  for (int k = 0; !clean && k < n; ++k) {
    double v = raw[k];
    mask[k] = 0;
    if (k >= nrecorded || !std::isfinite(v)) {
      mask[k] = 1;
      flags |= kMaskedSamples;
      v = 0.0;
    } else if (v >= cfg_.saturation_adc) {
      mask[k] = 1;
      flags |= kSaturated;
    }
    any_masked = any_masked || mask[k];
    ybuf[k] = v;
  }

  // Pedestal treatment.
  bool fit_pedestal = true;
  double ped[2] = {0.0, 0.0};
  if (cfg_.pedestal == PedestalMode::kFixed) {
    ped[0] = fixed_pedestal[0];
    ped[1] = fixed_pedestal[1];
    fit_pedestal = false;
  } else if (cfg_.pedestal == PedestalMode::kLeading) {
    unsigned char used[kMaxSamples];
    for (int k = 0; k < n; ++k) used[k] = !mask[k];
    const LeadingPedestal lp = leading_pedestal(y, used, n, cfg_.leading_samples, noise_sigma(cfg_));
    if (lp.quiet) {
      ped[0] = lp.even;
      ped[1] = lp.odd;
      fit_pedestal = false;
    } else {
      flags |= kPedestalFitted;
    }
  }
  if (!fit_pedestal)
    for (int k = 0; k < n; ++k)
      if (!mask[k]) ybuf[k] -= ped[k % 2];  // y is ybuf in the modes with known pedestals

  const Variant& variant = fit_pedestal ? *with_pedestal_ : *without_pedestal_;
  FitContext ctx;
  init_context(ctx);
  bool space_ok = true;
  if (any_masked) {
    space_ok = build_space(ws.space, n, noise_, mask, fit_pedestal);
    ctx.space = &ws.space;
    ctx.table = nullptr;
    if (space_ok && ws.space.white && variant.table.can_derive_masked()) {
      ws.table.derive_masked(variant.table, ws.space);
      ctx.table = &ws.table;
      ctx.exact_polish = true;
    }
  } else {
    ctx.space = &variant.space;
    ctx.table = &variant.table;
    ctx.pair_dict = &variant.pair_dict;
  }

  auto write_failed = [&]() {
    out.amplitude[wave] = 0.0;
    out.amplitude_err[wave] = 0.0;
    out.time_ns[wave] = 0.0;
    out.time_err[wave] = 0.0;
    out.pedestal_even[wave] = ped[0];
    out.pedestal_odd[wave] = ped[1];
    out.pedestal[wave] = 0.5 * (ped[0] + ped[1]);
    out.chi2[wave] = 0.0;
    out.ndf[wave] = 0;
    out.npulses[wave] = 0;
    out.flags[wave] = flags | kFitFailed | kNoPulse;
    out.pileup_amplitude[wave] = 0.0;
  };
  if (!space_ok) {
    write_failed();
    return;
  }

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
  for (int k = 0; !any_masked && !packed && k < n; ++k) {  // the loop below without the mask test
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
  for (int k = 0; any_masked && k < n; ++k) {
    if (mask[k]) continue;
    const double v = y[k] - base[k % 2];
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
  if (kmin != -1 && -ymin > 2.0 * std::max(ymax, 0.0) + 5.0 * noise_sigma(cfg_)) {
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
    if (-lo > 2.0 * hi + 5.0 * noise_sigma(cfg_)) polarity = -1.0;
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
      y[before_edge] - base[before_edge & 1] >= detail::kEdgeStartSigma * noise_sigma(cfg_)) {
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
  prepare_context(ctx, y);
  ctx.dots = nullptr;
  if (ctx.table != nullptr) {
    ws.dots.begin(*ctx.table, ctx.yw);
    ctx.dots = &ws.dots;
  }

  // The phase scan matters for small pulses, whose start the noise moves, and for templates
  // with a second valley; a window that turns out suspicious is checked against it below.
  const bool scan_first = any_masked || !variant.scan_free || polarity < 0.0 ||
                          !(ymax >= detail::kScanFreePeakSigma * noise_sigma(cfg_));
  PulseModel model;
  bool edge_retry = false;
  if (!fit_single(ctx, tau0, polarity, ctx.exact_polish, model, scan_first)) {
    // Started on an edge with no significant pulse before it (the rule above did not apply):
    // the window holds noise and the start of a pulse after it. Fitted from its largest
    // sample before the edge instead, it comes out as no pulse, or the search adds the edge.
    // (If that fit too is drawn to the edge and fails, the window holds no pulse of its own:
    // "no pulse" is the model the search starts from.)
    const int k_alt = before_edge;
    if (k_alt < 0) {
      write_failed();
      return;
    }
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

  // Pedestals read back from the data minus the pulses (least squares on the whitened
  // even / odd indicators).
  if (fit_pedestal) read_back_pedestals(ctx, model, ped);

  // Significant pulses, the main one, the in-time ones.
  int k = model.npulses;
  const bool single_path = k == 1;
  int significant = 0;
  int keep[kMaxPulses];
  // Extra pulses have already passed the chi2-gain test of the pile-up search; a lone pulse
  // must stand out of the noise by itself.
  for (int i = 0; i < k; ++i) {
    if (model.amp[i] > ctx.max_amplitude) {  // unphysical: far beyond the ADC range
      flags |= kFitFailed;
      continue;
    }
    // (after an edge retry the first pulse was started on noise and passed no test)
    if (model.amp[i] > 0.0 && ((k > 1 && !edge_retry) || model.amp[i] >= cfg_.min_significance * model.amp_err[i]))
      keep[significant++] = i;
  }
  if (single_path && model.amp[0] < -cfg_.min_significance * model.amp_err[0]) flags |= kNegative;
  const bool has_trigger = !std::isnan(cfg_.trigger_time_ns);
  const double window_end = (n - 1) * dt;
  int main = -1;
  double main_amp = -1e300;
  bool in_time[kMaxPulses] = {};
  for (int s = 0; s < significant; ++s) {
    const int i = keep[s];
    const double t = model.tau[i];
    const bool eligible = has_trigger ? std::fabs(t - cfg_.trigger_time_ns) <= cfg_.in_time_window_ns
                                      : (t >= 0.0 && t <= window_end);
    in_time[i] = has_trigger && eligible;
    if (eligible && model.amp[i] > main_amp) {
      main_amp = model.amp[i];
      main = i;
    }
  }
  if (significant > 0 && main < 0) {
    flags |= kOutOfWindow;
    for (int s = 0; s < significant; ++s)
      if (model.amp[keep[s]] > main_amp) {
        main_amp = model.amp[keep[s]];
        main = keep[s];
      }
  }
  if (significant == 0) {
    flags |= kNoPulse;
    main = 0;  // report the best single-pulse estimate, flagged
  }
  if (!has_trigger && significant > 0 && !(flags & kOutOfWindow)) in_time[main] = true;
  if (significant > 1) flags |= kPileup;

  double others = 0.0;
  for (int s = 0; s < significant; ++s)
    if (keep[s] != main) others += model.amp[keep[s]];
  auto finite_or_zero = [](double v) { return std::isfinite(v) ? v : 0.0; };
  out.amplitude[wave] = finite_or_zero(model.amp[main]);
  out.amplitude_err[wave] = finite_or_zero(model.amp_err[main]);
  out.time_ns[wave] = finite_or_zero(model.tau[main]);
  out.time_err[wave] = finite_or_zero(model.tau_err[main]);
  out.pedestal_even[wave] = finite_or_zero(ped[0]);
  out.pedestal_odd[wave] = finite_or_zero(ped[1]);
  out.pedestal[wave] = finite_or_zero(0.5 * (ped[0] + ped[1]));
  out.chi2[wave] = finite_or_zero(model.chi2);
  out.ndf[wave] = ctx.space->nused - ctx.space->npedestal - 2 * k;
  out.npulses[wave] = significant;
  out.flags[wave] = flags;
  out.pileup_amplitude[wave] = finite_or_zero(others);
  for (int s = 0; s < significant; ++s) {
    const int i = keep[s];
    pulses.push_back(wave, finite_or_zero(model.amp[i]), finite_or_zero(model.tau[i]), finite_or_zero(model.amp_err[i]),
                     finite_or_zero(model.tau_err[i]), in_time[i]);
  }
}

}  // namespace na64::waveform
