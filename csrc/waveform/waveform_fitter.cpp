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
                             const double* hint_times, int nhints, FitWorkspace& ws, const WaveOutputs& out,
                             PulseColumns& pulses) const {
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
    const LeadingPedestal lp = leading_pedestal(y, used, n, cfg_.leading_samples, detail::noise_sigma(cfg_));
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

  // Amplitudes at times given in advance (hints: the pulse times of another channel that saw
  // the same particles), kept when the pile-up prefilter finds nothing suspicious in them;
  // otherwise, and without hints, the free fit: single pulse, then the pile-up search.
  PulseModel model;
  bool edge_retry = false;
  bool prepared = false;
  bool hinted = false;
  if (nhints > 0 && !any_masked && ctx.table != nullptr) {
    prepare_context(ctx, y);
    ws.dots.begin(*ctx.table, ctx.yw);
    ctx.dots = &ws.dots;
    prepared = true;
    hinted = fit_at_times(ctx, hint_times, nhints, model);
  }
  if (hinted) {
    flags |= kHinted;
  } else if (!fit_free(raw, y, mask, any_masked, fit_pedestal, prepared, variant, ws, ctx, flags, model, edge_retry)) {
    write_failed();
    return;
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
  // (a pulse at a given time has one parameter, a free one two)
  out.ndf[wave] = ctx.space->nused - ctx.space->npedestal - (hinted ? 1 : 2) * k;
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
