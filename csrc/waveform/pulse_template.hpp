// A tabulated pulse shape turned into a smooth function of time (natural cubic spline),
// peak-normalised so that "amplitude" and "time" of a fitted pulse mean the height and the
// position of its peak.
#pragma once
#include <vector>

namespace na64::waveform {

class PulseTemplate {
 public:
  // times_ns strictly increasing (at least 4 points), values finite with a positive maximum.
  // The shape is rescaled so that its peak is 1 and shifted so that the peak sits at t = 0.
  PulseTemplate(std::vector<double> times_ns, std::vector<double> values);

  double value(double t_ns) const;       // 0 outside the tabulated range
  double derivative(double t_ns) const;  // d value / dt, per ns; 0 outside the range
  void evaluate(double t_ns, double& value, double& derivative) const;

  double t_min() const { return times_.front(); }
  double t_max() const { return times_.back(); }
  // What the constructor did to the input: t_template = t_input - peak_shift_ns,
  // value_template = value_input / peak_value.
  double peak_shift_ns() const { return peak_shift_; }
  double peak_value() const { return peak_value_; }
  const std::vector<double>& times() const { return times_; }
  const std::vector<double>& values() const { return values_; }

 private:
  void build_spline();
  int interval(double t) const;
  void raw_evaluate(int i, double t, double& v, double& d) const;

  std::vector<double> times_, values_, second_;  // knots, values, spline second derivatives
  double peak_shift_ = 0.0, peak_value_ = 1.0;
};

// The template resampled on a uniform grid whose step divides the sampling interval, so that
// all samples of a window share one set of interpolation weights (cubic Hermite through the
// spline's values and derivatives: the same piecewise cubic, evaluated without a search).
class SampledShape {
 public:
  SampledShape(const PulseTemplate& tpl, double sampling_ns, double max_step_ns = 0.5);
  // f[k] = T(k * sampling - tau) * fscale, g[k] = T'(k * sampling - tau) * gscale.
  void eval_window(double tau_ns, int nsamples, double* f, double* g, double fscale = 1.0,
                   double gscale = 1.0) const;
  double sampling_ns() const { return sampling_; }

 private:
  double t0_, step_, inv_step_, sampling_;
  int per_sample_;
  std::vector<double> v_, d_;  // values and step-scaled derivatives at the nodes
};

}  // namespace na64::waveform
