// Expected lateral profile of an electromagnetic shower, integrated over square cells.
// The cumulative of a sum of components b_i / (b_i^2 + r^2)^(3/2) has a closed form
// (Lednev's parametrisation), so the fraction of energy in any rectangle is exact and cheap.
#pragma once
#include <array>
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

// Throws InputError unless weights are positive, sum to 1 within 1e-6, and widths > 0.
void validate_profile(const ShowerProfile& profile);

}  // namespace na64::calo
