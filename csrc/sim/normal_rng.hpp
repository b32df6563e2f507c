// Fast reproducible Gaussian numbers for the simulator's noise: xoshiro256** bits turned
// into normals by a 128-strip ziggurat (Marsaglia & Tsang), with the strip index and the
// value taken from different bits of one 64-bit draw (avoiding the correlation of the
// original 32-bit version). One stream per seed; the caller fixes the consumption order.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace na64::sim {

class NormalRng {
 public:
  explicit NormalRng(std::uint64_t seed);
  float normal() {
    const std::uint64_t bits = next();
    const auto strip = static_cast<unsigned>(bits & 127u);
    const auto hz = static_cast<std::int32_t>(static_cast<std::uint32_t>(bits >> 32));
    if (static_cast<std::uint32_t>(hz < 0 ? -static_cast<std::int64_t>(hz) : hz) < tables().k[strip])
      return static_cast<float>(hz) * tables().w[strip];
    return tail(hz, strip);
  }
  // uniform in (0, 1)
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  struct Tables {
    std::array<std::uint32_t, 128> k{};
    std::array<float, 128> w{};
    std::array<float, 128> f{};
    Tables();
  };
  static const Tables& tables();
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  float tail(std::int32_t hz, unsigned strip);
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace na64::sim
