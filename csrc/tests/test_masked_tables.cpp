// Tables of windows with masked samples derived from the fitter's raw rows against tables
// built directly for the masked space from the exact template: every per-phase quantity and
// every dictionary atom and Gram row agree to rounding, for several masks (a clipped peak,
// a missing tail, one parity nearly gone) and with the pedestals fitted or known.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/check.hpp"
#include "tests/test_template.hpp"
#include "waveform/phase_tables.hpp"
#include "waveform/pulse_template.hpp"
#include "waveform/sample_space.hpp"

using namespace na64::waveform;

namespace {

bool close(double a, double b, double scale) { return std::fabs(a - b) <= 1e-9 * (scale + std::fabs(a) + std::fabs(b)); }

bool rows_close(const double* a, const double* b, int n) {
  double scale = 0.0;
  for (int k = 0; k < n; ++k) scale = std::max(scale, std::fabs(a[k]) + std::fabs(b[k]));
  for (int k = 0; k < n; ++k)
    if (!close(a[k], b[k], scale)) return false;
  return true;
}

void check_mask(const SampledShape& shape, const unsigned char* mask, bool fit_pedestal) {
  const int n = 32;
  NoiseModel noise;
  noise.rms = 2.0;
  SampleSpace full, masked;
  NA64_CHECK(build_space(full, n, noise, nullptr, fit_pedestal));
  NA64_CHECK(build_space(masked, n, noise, mask, fit_pedestal));
  PhaseTable parent, direct, derived;
  parent.build(shape, full, -50.0, 400.0, 0.5);
  direct.build(shape, masked, -50.0, 400.0, 0.5);
  NA64_CHECK(parent.can_derive_masked());
  derived.derive_masked(parent, masked);
  NA64_CHECK(derived.nphase == direct.nphase && !derived.can_derive_masked());
  for (int p = derived.nphase - 1; p >= 0; p -= 7) {  // out of order: filled when asked for
    NA64_CHECK(rows_close(derived.f_row(p), direct.f_row(p), n));
    NA64_CHECK(rows_close(derived.d_row(p), direct.d_row(p), n));
    NA64_CHECK(rows_close(derived.normal_at(p), direct.normal_at(p), 3));
    NA64_CHECK(rows_close(derived.minv_at(p), direct.minv_at(p), 3));
    NA64_CHECK(close(derived.inv_ff_at(p), direct.inv_ff_at(p), 0.0));
    NA64_CHECK(rows_close(derived.ind_f_at(p), direct.ind_f_at(p), 2));
    NA64_CHECK(rows_close(derived.ind_d_at(p), direct.ind_d_at(p), 2));
    NA64_CHECK(rows_close(derived.ind_s_at(p), direct.ind_s_at(p), 2));
    // the curvature response: from finite differences, so agreeing to their precision
    const double* u = derived.curv_u_at(p);
    const double* v = direct.curv_u_at(p);
    for (int j = 0; j < 2; ++j) NA64_CHECK(std::fabs(u[j] - v[j]) <= 1e-6 * (1.0 + std::fabs(v[j])));
    NA64_CHECK(std::fabs(derived.curv_perp2_at(p) - direct.curv_perp2_at(p)) <=
               1e-6 * (1.0 + std::fabs(direct.curv_perp2_at(p))));
  }
  Dictionary dparent, dlazy, dderived;
  dparent.build(shape, full, -50.0, 400.0, 6.25);
  dlazy.build(shape, masked, -50.0, 400.0, 6.25, /*lazy=*/true);
  NA64_CHECK(dparent.can_derive_masked());
  dderived.derive_masked(dparent, masked);
  NA64_CHECK(dderived.natoms == dlazy.natoms);
  for (int j = 0; j < dderived.natoms; j += 3) {
    NA64_CHECK(rows_close(dderived.atom(j), dlazy.atom(j), n));
    NA64_CHECK(close(dderived.inv_norm(j), dlazy.inv_norm(j), 0.0));
    NA64_CHECK(rows_close(dderived.row(j), dlazy.row(j), dderived.natoms));
  }
}

}  // namespace

int main() {
  const PulseTemplate tpl = make_test_template();
  const SampledShape shape(tpl, 12.5);
  unsigned char clipped[32] = {}, tail[32] = {}, one_parity[32] = {};
  for (int k = 9; k <= 12; ++k) clipped[k] = 1;  // a clipped peak
  for (int k = 24; k < 32; ++k) tail[k] = 1;     // samples not recorded
  for (int k = 0; k < 32; k += 2) one_parity[k] = k != 4;  // one even sample left
  for (const bool fit_pedestal : {true, false}) {
    check_mask(shape, clipped, fit_pedestal);
    check_mask(shape, tail, fit_pedestal);
    check_mask(shape, one_parity, fit_pedestal);
  }
  // correlated noise: no raw rows to derive from (its whitening mixes the samples)
  NoiseModel correlated;
  correlated.covariance.assign(32 * 32, 0.0);
  for (int i = 0; i < 32; ++i)
    for (int j = 0; j < 32; ++j) correlated.covariance[i * 32 + j] = 4.0 * std::pow(0.3, std::abs(i - j));
  SampleSpace space;
  NA64_CHECK(build_space(space, 32, correlated, nullptr, true));
  PhaseTable table;
  table.build(shape, space, 0.0, 400.0, 0.5);
  NA64_CHECK(!table.can_derive_masked());
  Dictionary dict;
  dict.build(shape, space, 0.0, 400.0, 6.25);
  NA64_CHECK(!dict.can_derive_masked());
  return 0;
}
