// Expected lateral profile of an electromagnetic shower, integrated over square cells.
// The cumulative of a sum of components b_i / (b_i^2 + r^2)^(3/2) has a closed form
// (Lednev's parametrisation), so the fraction of energy in any rectangle is exact and cheap.
#pragma once
#include <array>
#include <cmath>
#include <cstddef>

namespace na64::calo {

struct ShowerProfile {
  static constexpr std::size_t kMaxComponents = 3;
  std::size_t n_components = 2;
  std::array<double, kMaxComponents> weight{0.83, 0.17, 0.0};  // sums to 1
  std::array<double, kMaxComponents> width_mm{5.5, 26.0, 1.0};

  // Fraction of the shower energy in the rectangle [x1,x2] x [y1,y2] (mm, shower axis at 0).
  double fraction(double x1, double x2, double y1, double y2) const;
  // Fraction in a square cell of side `pitch` centred at (dx, dy) from the shower axis.
  double cell_fraction(double dx, double dy, double pitch) const;
};

// atan with |error| < 1e-8 rad, several times faster than std::atan: the profile is
// evaluated tens of times per cluster. Polynomial in x^2 on |x| <= 1 (coefficients fitted
// for this project), reflected through atan(x) = +-pi/2 - atan(1/x) outside.
inline double fast_atan(double x) {
  constexpr double kHalfPi = 1.57079632679489661923;
  constexpr double c[9] = {0.99999988636134185,  -0.33332596920091367, 0.19985905206712543,
                           -0.14161219143973122, 0.10498911879307726,  -0.072347915670420787,
                           0.039780504291544276, -0.014400941545001239, 0.0024566254946197172};
  const double a = std::fabs(x);
  const bool outside = a > 1.0;
  const double z = outside ? 1.0 / a : a;  // NaN stays NaN
  const double u = z * z;
  double p = c[8];
  for (int k = 7; k >= 0; --k) p = p * u + c[k];
  const double r = outside ? kHalfPi - z * p : z * p;
  return x < 0 ? -r : r;
}

// Throws InputError unless weights are positive, sum to 1 within 1e-6, and widths > 0.
void validate_profile(const ShowerProfile& profile);

}  // namespace na64::calo
