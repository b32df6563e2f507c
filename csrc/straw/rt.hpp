// Drift-time to drift-radius relation of straw tubes: a monotonic table (piecewise linear)
// or a polynomial, both valid only inside their drift window [t_min, t_max].
#pragma once
#include <vector>

namespace na64::straw {

class RtRelation {
 public:
  // t strictly increasing, r non-decreasing, err > 0; throws InputError naming the first
  // offending row (0-based) otherwise.
  static RtRelation table(std::vector<double> t_ns, std::vector<double> r_mm, std::vector<double> err_mm);
  // r = sum c_k t^k on [t_min, t_max] with a constant error; must be non-decreasing there.
  static RtRelation polynomial(std::vector<double> coefficients, double t_min_ns, double t_max_ns,
                               double err_mm);

  double t_min() const { return t_min_; }
  double t_max() const { return t_max_; }
  // False when t is outside the drift window (r and err untouched).
  bool radius(double t_ns, double& r_mm, double& err_mm) const;

 private:
  RtRelation() = default;
  bool is_table_ = true;
  std::vector<double> t_, r_, err_, coefficients_;
  double t_min_ = 0.0, t_max_ = 0.0, poly_err_ = 0.0;
};

}  // namespace na64::straw
