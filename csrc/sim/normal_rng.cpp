#include "sim/normal_rng.hpp"

#include <cstdlib>

namespace na64::sim {

namespace {
constexpr double kR = 3.442619855899;  // start of the tail strip
constexpr double kV = 9.91256303526217e-3;  // area of every strip
constexpr double kTwo31 = 2147483648.0;

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
}  // namespace

NormalRng::Tables::Tables() {
  double dn = kR;
  double tn = dn;
  const double q = kV / std::exp(-0.5 * dn * dn);
  k[0] = static_cast<std::uint32_t>((dn / q) * kTwo31);
  k[1] = 0;
  w[0] = static_cast<float>(q / kTwo31);
  w[127] = static_cast<float>(dn / kTwo31);
  f[0] = 1.0f;
  f[127] = static_cast<float>(std::exp(-0.5 * dn * dn));
  for (int i = 126; i >= 1; --i) {
    dn = std::sqrt(-2.0 * std::log(kV / dn + std::exp(-0.5 * dn * dn)));
    k[i + 1] = static_cast<std::uint32_t>((dn / tn) * kTwo31);
    tn = dn;
    f[i] = static_cast<float>(std::exp(-0.5 * dn * dn));
    w[i] = static_cast<float>(dn / kTwo31);
  }
}

const NormalRng::Tables& NormalRng::tables() {
  static const Tables t;
  return t;
}

NormalRng::NormalRng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

float NormalRng::tail(std::int32_t hz, unsigned strip) {
  const Tables& t = tables();
  for (;;) {
    const double x = static_cast<double>(hz) * static_cast<double>(t.w[strip]);
    if (strip == 0) {
      // beyond kR: Marsaglia's exponential rejection for the Gaussian tail
      double xt, y;
      do {
        xt = -std::log(uniform()) / kR;
        y = -std::log(uniform());
      } while (y + y < xt * xt);
      return static_cast<float>(hz > 0 ? kR + xt : -kR - xt);
    }
    const double fi = t.f[strip], fprev = t.f[strip - 1];
    if (fi + uniform() * (fprev - fi) < std::exp(-0.5 * x * x)) return static_cast<float>(x);
    const std::uint64_t bits = next();
    strip = static_cast<unsigned>(bits & 127u);
    hz = static_cast<std::int32_t>(static_cast<std::uint32_t>(bits >> 32));
    if (static_cast<std::uint32_t>(hz < 0 ? -static_cast<std::int64_t>(hz) : hz) < t.k[strip])
      return static_cast<float>(hz) * t.w[strip];
  }
}

}  // namespace na64::sim
