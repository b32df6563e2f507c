// Block LDL^T solves of the multi-pulse normal equations against a plain Cholesky reference:
// solutions and inverse diagonals of random well- and ill-conditioned SPD matrices, and
// failure on matrices that are not positive definite.
#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/check.hpp"
#include "waveform/block_ldl.hpp"
#include "waveform/small_linalg.hpp"

using namespace na64::waveform;

namespace {

struct Lcg {
  uint64_t s;
  double uniform() {  // [-1, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(s >> 11) * (2.0 / 9007199254740992.0) - 1.0;
  }
};

// Gram matrix of n random columns of length rows (rows >= n: positive definite), with the
// columns of the second half made nearly parallel to the first by `mix`.
std::vector<double> gram(Lcg& rng, int n, int rows, double mix) {
  std::vector<double> x(static_cast<size_t>(rows) * n);
  for (auto& v : x) v = rng.uniform();
  for (int c = n / 2; c < n; ++c)
    for (int r = 0; r < rows; ++r) x[r * n + c] = mix * x[r * n + c - n / 2] + (1.0 - mix) * x[r * n + c];
  std::vector<double> a(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int r = 0; r < rows; ++r) a[i * n + j] += x[r * n + i] * x[r * n + j];
  return a;
}

void check_against_cholesky(const std::vector<double>& a, int k, double tol) {
  const int n = 2 * k;
  Lcg rng{static_cast<uint64_t>(k) * 77u + 5u};
  std::vector<double> b(n), x(n), xr(n), var(n), var_ref(n);
  for (auto& v : b) v = rng.uniform();
  std::vector<double> f = a, l = a;
  NA64_CHECK(block_ldl_factor(f.data(), k));
  NA64_CHECK(cholesky(l.data(), n, n));
  block_ldl_solve(f.data(), k, b.data(), x.data());
  cholesky_solve(l.data(), n, n, b.data(), xr.data());
  block_ldl_inverse_diagonal(f.data(), k, var.data());
  cholesky_inverse_diagonal(l.data(), n, n, var_ref.data());
  double scale = 0.0;
  for (int i = 0; i < n; ++i) scale = std::fmax(scale, std::fabs(xr[i]));
  for (int i = 0; i < n; ++i) {
    NA64_CHECK(std::fabs(x[i] - xr[i]) <= tol * scale);
    NA64_CHECK(var[i] > 0.0);
    NA64_CHECK(std::fabs(var[i] - var_ref[i]) <= tol * var_ref[i]);
  }
  // the residual of the solve itself
  for (int i = 0; i < n; ++i) {
    double r = -b[i];
    for (int j = 0; j < n; ++j) r += a[i * n + j] * x[j];
    double row = 0.0;
    for (int j = 0; j < n; ++j) row += std::fabs(a[i * n + j] * x[j]);
    NA64_CHECK(std::fabs(r) <= tol * (row + std::fabs(b[i])));
  }
  // aliasing: x may be b
  std::vector<double> bb = b;
  block_ldl_solve(f.data(), k, bb.data(), bb.data());
  for (int i = 0; i < n; ++i) NA64_CHECK(bb[i] == x[i]);
}

}  // namespace

int main() {
  Lcg rng{2024};
  for (int k = 1; k <= 12; ++k)
    for (int trial = 0; trial < 20; ++trial) {
      check_against_cholesky(gram(rng, 2 * k, 2 * k + 8, 0.0), k, 1e-9);
      check_against_cholesky(gram(rng, 2 * k, 2 * k + 8, 0.999), k, 1e-5);  // nearly parallel pulses
    }
  // Not positive definite: a zero pivot, a negative one, a singular 2x2 block, NaN.
  for (int k = 1; k <= 5; ++k) {
    const int n = 2 * k;
    auto a = gram(rng, n, n + 4, 0.0);
    auto zero = a;
    for (int j = 0; j < n; ++j) zero[(n - 2) * n + j] = zero[j * n + n - 2] = 0.0;
    NA64_CHECK(!block_ldl_factor(zero.data(), k));
    auto negative = a;
    negative[(n - 1) * n + n - 1] = -1.0;
    NA64_CHECK(!block_ldl_factor(negative.data(), k));
    auto singular = a;  // last two rows / columns equal
    for (int j = 0; j < n; ++j) singular[(n - 1) * n + j] = singular[(n - 2) * n + j];
    for (int j = 0; j < n; ++j) singular[j * n + n - 1] = singular[j * n + n - 2];
    singular[(n - 1) * n + n - 1] = singular[(n - 2) * n + n - 2];
    NA64_CHECK(!block_ldl_factor(singular.data(), k));
    auto nan = a;
    nan[0] = std::nan("");
    NA64_CHECK(!block_ldl_factor(nan.data(), k));
  }
  return 0;
}
