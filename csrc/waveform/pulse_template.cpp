#include "waveform/pulse_template.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace na64::waveform {

PulseTemplate::PulseTemplate(std::vector<double> times_ns, std::vector<double> values)
    : times_(std::move(times_ns)), values_(std::move(values)) {
  if (times_.size() != values_.size())
    throw InputError(concat("PulseTemplate: times_ns has ", times_.size(), " entries but values has ",
                            values_.size(), "; expected equal lengths"));
  if (times_.size() < 4)
    throw InputError(concat("PulseTemplate: got ", times_.size(), " points, expected at least 4"));
  for (size_t i = 0; i < times_.size(); ++i) {
    if (!std::isfinite(times_[i]) || !std::isfinite(values_[i]))
      throw InputError(concat("PulseTemplate: non-finite entry at index ", i, " (time ", times_[i],
                              ", value ", values_[i], ")"));
    if (i > 0 && !(times_[i] > times_[i - 1]))
      throw InputError(concat("PulseTemplate: times_ns must increase strictly; index ", i, " has ",
                              times_[i], " after ", times_[i - 1]));
  }
  build_spline();

  // Peak of the interpolant: the best knot, then the root of the derivative next to it.
  size_t best = static_cast<size_t>(std::max_element(values_.begin(), values_.end()) - values_.begin());
  if (!(values_[best] > 0.0))
    throw InputError(concat("PulseTemplate: the largest value is ", values_[best],
                            "; a pulse shape needs a positive peak"));
  double t_peak = times_[best];
  double v_peak = values_[best];
  for (int side = -1; side <= 1; side += 2) {
    long j = static_cast<long>(best) + side;
    if (j < 0 || j >= static_cast<long>(times_.size())) continue;
    double a = std::min(times_[best], times_[j]), b = std::max(times_[best], times_[j]);
    double va, da, vb, db;
    evaluate(a, va, da);
    evaluate(b, vb, db);
    if (!(da > 0.0 && db < 0.0)) continue;  // the maximum is not inside this interval
    for (int it = 0; it < 80; ++it) {
      double m = 0.5 * (a + b), vm, dm;
      evaluate(m, vm, dm);
      (dm > 0.0 ? a : b) = m;
    }
    double vm, dm;
    evaluate(0.5 * (a + b), vm, dm);
    if (vm > v_peak) {
      v_peak = vm;
      t_peak = 0.5 * (a + b);
    }
  }
  peak_shift_ = t_peak;
  peak_value_ = v_peak;
  for (auto& t : times_) t -= t_peak;
  for (auto& v : values_) v /= v_peak;
  for (auto& s : second_) s /= v_peak;
}

void PulseTemplate::build_spline() {
  // Natural cubic spline: tridiagonal system for the second derivatives (Thomas algorithm).
  const size_t n = times_.size();
  second_.assign(n, 0.0);
  std::vector<double> c(n, 0.0), r(n, 0.0);
  for (size_t i = 1; i + 1 < n; ++i) {
    double h0 = times_[i] - times_[i - 1], h1 = times_[i + 1] - times_[i];
    double diag = 2.0 * (h0 + h1);
    double rhs = 6.0 * ((values_[i + 1] - values_[i]) / h1 - (values_[i] - values_[i - 1]) / h0);
    double denom = diag - h0 * c[i - 1];
    c[i] = h1 / denom;
    r[i] = (rhs - h0 * r[i - 1]) / denom;
  }
  for (size_t i = n - 2; i >= 1; --i) {
    second_[i] = r[i] - c[i] * second_[i + 1];
    if (i == 1) break;
  }
}

int PulseTemplate::interval(double t) const {
  auto it = std::upper_bound(times_.begin(), times_.end(), t);
  int i = static_cast<int>(it - times_.begin()) - 1;
  return std::clamp(i, 0, static_cast<int>(times_.size()) - 2);
}

void PulseTemplate::raw_evaluate(int i, double t, double& v, double& d) const {
  double h = times_[i + 1] - times_[i];
  double a = (times_[i + 1] - t) / h, b = (t - times_[i]) / h;
  v = a * values_[i] + b * values_[i + 1] +
      ((a * a * a - a) * second_[i] + (b * b * b - b) * second_[i + 1]) * h * h / 6.0;
  d = (values_[i + 1] - values_[i]) / h +
      (-(3.0 * a * a - 1.0) * second_[i] + (3.0 * b * b - 1.0) * second_[i + 1]) * h / 6.0;
}

void PulseTemplate::evaluate(double t, double& v, double& d) const {
  if (!(t >= times_.front() && t <= times_.back())) {
    v = 0.0;
    d = 0.0;
    return;
  }
  raw_evaluate(interval(t), t, v, d);
}

double PulseTemplate::value(double t) const {
  double v, d;
  evaluate(t, v, d);
  return v;
}

double PulseTemplate::derivative(double t) const {
  double v, d;
  evaluate(t, v, d);
  return d;
}

SampledShape::SampledShape(const PulseTemplate& tpl, double sampling_ns, double max_step_ns)
    : sampling_(sampling_ns) {
  if (!(sampling_ns > 0.0) || !std::isfinite(sampling_ns))
    throw InputError(concat("sampling_ns must be positive and finite, got ", sampling_ns));
  per_sample_ = std::max(1, static_cast<int>(std::ceil(sampling_ns / max_step_ns - 1e-9)));
  step_ = sampling_ns / per_sample_;
  inv_step_ = 1.0 / step_;
  t0_ = tpl.t_min();
  const long n = static_cast<long>(std::ceil((tpl.t_max() - t0_) / step_)) + 1;
  if (n > 4'000'000)
    throw InputError(concat("PulseTemplate spans ", tpl.t_max() - t0_, " ns: too long to sample every ",
                            step_, " ns"));
  v_.resize(static_cast<size_t>(n));
  d_.resize(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) {
    double vi, di;
    tpl.evaluate(t0_ + static_cast<double>(i) * step_, vi, di);
    v_[static_cast<size_t>(i)] = vi;
    d_[static_cast<size_t>(i)] = di * step_;
  }
}

void SampledShape::eval_window(double tau, int nsamples, double* f, double* g, double fscale, double gscale) const {
  // Node position of sample k: u = (k*sampling - tau - t0)/step = k*per_sample + u0.
  const double u0 = (-tau - t0_) * inv_step_;
  // Clamp before converting: tau may be huge for garbage input, and the cast must stay defined.
  const double fl = std::floor(std::clamp(u0, -1e12, 1e12));
  const double s = std::clamp(u0 - fl, 0.0, 1.0);
  const double s2 = s * s, s3 = s2 * s;
  const double h00 = (2 * s3 - 3 * s2 + 1) * fscale, h10 = (s3 - 2 * s2 + s) * fscale,
               h01 = (-2 * s3 + 3 * s2) * fscale, h11 = (s3 - s2) * fscale;
  const double gs = inv_step_ * gscale;
  const double g00 = (6 * s2 - 6 * s) * gs, g10 = (3 * s2 - 4 * s + 1) * gs, g01 = (-6 * s2 + 6 * s) * gs,
               g11 = (3 * s2 - 2 * s) * gs;
  const long nodes = static_cast<long>(v_.size());
  const long i0 = static_cast<long>(fl);
  const long m = per_sample_;
  // Samples whose interval [i, i+1] lies inside the node range: k_lo <= k < k_hi.
  long k_lo = i0 >= 0 ? 0 : (-i0 + m - 1) / m;
  long k_hi = i0 + 1 < nodes ? (nodes - 2 - i0) / m + 1 : 0;
  k_lo = std::clamp<long>(k_lo, 0, nsamples);
  k_hi = std::clamp<long>(k_hi, k_lo, nsamples);
  for (long k = 0; k < k_lo; ++k) f[k] = g[k] = 0.0;
  const double* v = v_.data();
  const double* d = d_.data();
  for (long k = k_lo; k < k_hi; ++k) {
    const long i = i0 + k * m;
    f[k] = h00 * v[i] + h10 * d[i] + h01 * v[i + 1] + h11 * d[i + 1];
    g[k] = g00 * v[i] + g10 * d[i] + g01 * v[i + 1] + g11 * d[i + 1];
  }
  for (long k = k_hi; k < nsamples; ++k) f[k] = g[k] = 0.0;
}

}  // namespace na64::waveform
