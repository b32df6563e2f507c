#include "calo/shower_profile.hpp"

#include <cmath>

#include "common/error.hpp"

namespace na64::calo {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Cumulative distribution without its constant 1/4 (which cancels in rectangle sums).
double cumulative(const ShowerProfile& p, double x, double y) {
  double sum = 0.0;
  for (std::size_t i = 0; i < p.n_components; ++i) {
    const double b = p.width_mm[i];
    const double term = fast_atan(x / b) + fast_atan(y / b) +
                        fast_atan(x * y / (b * std::sqrt(b * b + x * x + y * y)));
    sum += p.weight[i] * term;
  }
  return sum / (2.0 * kPi);
}

}  // namespace

double ShowerProfile::fraction(double x1, double x2, double y1, double y2) const {
  return cumulative(*this, x2, y2) - cumulative(*this, x1, y2) - cumulative(*this, x2, y1) +
         cumulative(*this, x1, y1);
}

double ShowerProfile::cell_fraction(double dx, double dy, double pitch) const {
  const double h = 0.5 * pitch;
  return fraction(dx - h, dx + h, dy - h, dy + h);
}

void validate_profile(const ShowerProfile& p) {
  if (p.n_components < 1 || p.n_components > ShowerProfile::kMaxComponents)
    throw InputError(concat("shower profile: ", p.n_components, " components, expected 1..",
                            ShowerProfile::kMaxComponents));
  double total = 0.0;
  for (std::size_t i = 0; i < p.n_components; ++i) {
    if (!(p.weight[i] > 0.0) || !(p.width_mm[i] > 0.0))
      throw InputError(concat("shower profile component ", i, ": weight ", p.weight[i], " width ",
                              p.width_mm[i], " mm, expected both > 0"));
    total += p.weight[i];
  }
  if (std::fabs(total - 1.0) > 1e-6)
    throw InputError(concat("shower profile weights sum to ", total, ", expected 1"));
}

}  // namespace na64::calo
