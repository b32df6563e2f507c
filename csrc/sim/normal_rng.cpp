#include "sim/normal_rng.hpp"

#include <cmath>

namespace na64::sim {

namespace {
constexpr double kR = 3.852046150368391;        // start of the tail strip
constexpr double kV = 2.456766351541357e-3;  // area of every strip
constexpr double kScale = 4194304.0;         // 2^22: range of the signed 23-bit value

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
}  // namespace

NormalRng::NormalRng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
  double dn = kR;
  double tn = dn;
  const double q = kV / std::exp(-0.5 * dn * dn);
  k_[0] = static_cast<std::uint32_t>((dn / q) * kScale);
  k_[1] = 0;
  w_[0] = static_cast<float>(q / kScale);
  w_[kStrips - 1] = static_cast<float>(dn / kScale);
  f_[0] = 1.0f;
  f_[kStrips - 1] = static_cast<float>(std::exp(-0.5 * dn * dn));
  for (int i = static_cast<int>(kStrips) - 2; i >= 1; --i) {
    dn = std::sqrt(-2.0 * std::log(kV / dn + std::exp(-0.5 * dn * dn)));
    k_[i + 1] = static_cast<std::uint32_t>((dn / tn) * kScale);
    tn = dn;
    f_[i] = static_cast<float>(std::exp(-0.5 * dn * dn));
    w_[i] = static_cast<float>(dn / kScale);
  }
}

float NormalRng::tail(std::int32_t hz, unsigned strip) {
  for (;;) {
    const double x = static_cast<double>(hz) * static_cast<double>(w_[strip]);
    if (strip == 0) {
      // beyond kR: Marsaglia's exponential rejection for the Gaussian tail
      double xt, y;
      do {
        xt = -std::log(uniform()) / kR;
        y = -std::log(uniform());
      } while (y + y < xt * xt);
      return static_cast<float>(hz > 0 ? kR + xt : -kR - xt);
    }
    const double fi = f_[strip], fprev = f_[strip - 1];
    if (fi + uniform() * (fprev - fi) < std::exp(-0.5 * x * x)) return static_cast<float>(x);
    const auto half = static_cast<std::uint32_t>(next());
    strip = half & (kStrips - 1);
    hz = static_cast<std::int32_t>(half >> 9) - 4194304;
    const std::uint32_t mag = static_cast<std::uint32_t>(hz < 0 ? -hz : hz);
    if (mag < k_[strip]) return static_cast<float>(hz) * w_[strip];
  }
}

}  // namespace na64::sim
