#include "straw/rt.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace na64::straw {

RtRelation RtRelation::table(std::vector<double> t, std::vector<double> r, std::vector<double> err) {
  if (t.size() < 2 || r.size() != t.size() || err.size() != t.size())
    throw InputError(concat("r(t) table: ", t.size(), " times, ", r.size(), " radii, ", err.size(),
                            " errors; expected at least 2 rows of each"));
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t[i]) || !std::isfinite(r[i]) || !(err[i] > 0.0) || !std::isfinite(err[i]) || r[i] < 0.0)
      throw InputError(concat("r(t) table row ", i, ": t=", t[i], " r=", r[i], " err=", err[i],
                              ", expected finite values, r >= 0 and err > 0"));
    if (i && !(t[i] > t[i - 1]))
      throw InputError(concat("r(t) table row ", i, ": time ", t[i], " ns after ", t[i - 1],
                              " ns, expected strictly increasing times"));
    if (i && r[i] < r[i - 1])
      throw InputError(concat("r(t) table row ", i, ": radius ", r[i], " mm after ", r[i - 1],
                              " mm, expected a monotonic (non-decreasing) r(t)"));
  }
  RtRelation rt;
  rt.is_table_ = true;
  rt.t_min_ = t.front();
  rt.t_max_ = t.back();
  rt.t_ = std::move(t);
  rt.r_ = std::move(r);
  rt.err_ = std::move(err);
  return rt;
}

RtRelation RtRelation::polynomial(std::vector<double> c, double t_min, double t_max, double err) {
  if (c.empty() || !(t_max > t_min) || !(err > 0.0))
    throw InputError(concat("r(t) polynomial: ", c.size(), " coefficients on [", t_min, ", ", t_max,
                            "] ns with error ", err, " mm; expected coefficients, t_max > t_min, err > 0"));
  RtRelation rt;
  rt.is_table_ = false;
  rt.coefficients_ = std::move(c);
  rt.t_min_ = t_min;
  rt.t_max_ = t_max;
  rt.poly_err_ = err;
  // Monotonicity checked on a fine grid: a polynomial turning over inside the window would
  // map two drift times to one radius.
  constexpr int kSteps = 1000;
  double previous = 0.0, e = 0.0;
  for (int k = 0; k <= kSteps; ++k) {
    const double t = t_min + (t_max - t_min) * k / kSteps;
    double r = 0.0;
    rt.radius(t, r, e);
    if (k == 0 && r < -1e-9)
      throw InputError(concat("r(t) polynomial: r(", t, " ns) = ", r, " mm, expected >= 0"));
    if (k && r < previous - 1e-9)
      throw InputError(concat("r(t) polynomial: decreases near t = ", t, " ns (", previous, " -> ", r,
                              " mm), expected monotonic"));
    previous = r;
  }
  return rt;
}

bool RtRelation::radius(double t, double& r, double& err) const {
  if (!(t >= t_min_ && t <= t_max_)) return false;
  if (!is_table_) {
    double acc = 0.0;
    for (std::size_t k = coefficients_.size(); k-- > 0;) acc = acc * t + coefficients_[k];
    r = std::max(acc, 0.0);
    err = poly_err_;
    return true;
  }
  const auto it = std::upper_bound(t_.begin(), t_.end(), t);
  std::size_t hi = static_cast<std::size_t>(it - t_.begin());
  if (hi >= t_.size()) hi = t_.size() - 1;
  const std::size_t lo = hi - 1;
  const double f = (t - t_[lo]) / (t_[hi] - t_[lo]);
  r = r_[lo] + f * (r_[hi] - r_[lo]);
  err = err_[lo] + f * (err_[hi] - err_[lo]);
  return true;
}

}  // namespace na64::straw
