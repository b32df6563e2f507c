// Phase tables and dictionaries of windows with masked samples (clipped at the ADC's
// overflow, not recorded, not finite), derived from the fitter's raw rows instead of the
// exact template: zeroing the masked entries of a whitened row and projecting out the used
// samples' pedestal directions is a few operations per sample, where interpolating the
// template and its derivative was most of the cost of such a window (20 us against 2).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "waveform/phase_tables.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

void PhaseTable::derive_masked(const PhaseTable& parent, const SampleSpace& space) {
  tau_lo = parent.tau_lo;
  step = parent.step;
  inv_step = parent.inv_step;
  nphase = parent.nphase;
  nsamples = parent.nsamples;
  const size_t rows = static_cast<size_t>(nphase) * nsamples, n = static_cast<size_t>(nphase);
  // resize, not assign: every entry is written before it is read (fill_masked)
  f.resize(rows);
  d.resize(rows);
  minv.resize(3 * n);
  inv_ff.resize(n);
  normal.resize(3 * n);
  curv_u.resize(2 * n);
  ind_f.resize(2 * n);
  ind_d.resize(2 * n);
  ind_s.resize(2 * n);
  curv_perp2.resize(n);
  raw_f.clear();
  raw_d.clear();
  raw_s.clear();
  ready_.assign(n, 0);
  parent_ = &parent;
  space_ = &space;
  lazy_ = true;
}

namespace {

// Sums of the used samples of each parity (the whitened parity indicators' products, over
// the inverse noise) and, with parity_means_masked, those samples' parity means removed: the
// products and the projection of SampleSpace::project in one pass over the row. Otherwise
// (one parity fully masked, fixed pedestals) the space's own products and projection.
void indicator_products_and_project(const SampleSpace& sp, double* row, double ind[2]) {
  const int n = sp.nsamples;
#if defined(__GNUC__) || defined(__clang__)
  if (sp.parity_means_masked && sp.nindicator == 2 && sp.indicator_parity[0] == 0 && n % 2 == 0) {
    // (even, odd) pairs: the two lanes of a vector are the two parities
    typedef double pair __attribute__((vector_size(16)));
    pair sum0 = {0.0, 0.0}, sum1 = {0.0, 0.0};
    int k = 0;
    for (; k + 4 <= n; k += 4) {  // masked entries are 0
      pair a, b;
      std::memcpy(&a, row + k, sizeof(pair));
      std::memcpy(&b, row + k + 2, sizeof(pair));
      sum0 += a;
      sum1 += b;
    }
    for (; k < n; k += 2) {
      pair a;
      std::memcpy(&a, row + k, sizeof(pair));
      sum0 += a;
    }
    const pair sum = sum0 + sum1;
    const pair mean = {sum[0] / sp.used_count[0], sum[1] / sp.used_count[1]};
    for (k = 0; k < n; k += 2) {
      pair v, w;
      std::memcpy(&v, row + k, sizeof(pair));
      std::memcpy(&w, sp.used_weight + k, sizeof(pair));
      v -= mean * w;
      std::memcpy(row + k, &v, sizeof(pair));
    }
    ind[0] = sum[0] * sp.inv_sigma;
    ind[1] = sum[1] * sp.inv_sigma;
    return;
  }
#endif
  for (int q = 0; q < 2; ++q) ind[q] = q < sp.nindicator ? dot(sp.indicator[q], row, n) : 0.0;
  sp.project(row);
}

}  // namespace

void PhaseTable::fill_masked(int p) const {
  const SampleSpace& sp = *space_;
  const size_t at = static_cast<size_t>(p) * nsamples;
  double* fp = &f[at];
  double* dp = &d[at];
  double sw[kMaxSamples];
  const double* w = sp.used_weight;
  for (int k = 0; k < nsamples; ++k) {
    fp[k] = parent_->raw_f[at + k] * w[k];
    dp[k] = parent_->raw_d[at + k] * w[k];
    sw[k] = parent_->raw_s[at + k] * w[k];
  }
  indicator_products_and_project(sp, fp, &ind_f[2 * static_cast<size_t>(p)]);
  indicator_products_and_project(sp, dp, &ind_d[2 * static_cast<size_t>(p)]);
  indicator_products_and_project(sp, sw, &ind_s[2 * static_cast<size_t>(p)]);
  set_phase_values(p, fp, dp, sw);
  ready_[static_cast<size_t>(p)] = 1;
}

void Dictionary::fill_masked_atom(int j, double* a) const {
  const double* raw = &parent_->raw_atoms_[static_cast<size_t>(j) * nsamples];
  for (int k = 0; k < nsamples; ++k) a[k] = raw[k] * space_->used_weight[k];
  double ind[2];
  indicator_products_and_project(*space_, a, ind);
}

void Dictionary::derive_masked(const Dictionary& parent, const SampleSpace& space) {
  tau_lo = parent.tau_lo;
  step = parent.step;
  nsamples = parent.nsamples;
  natoms = parent.natoms;
  shape_ = nullptr;
  space_ = &space;
  parent_ = &parent;
  raw_atoms_.clear();
  atoms_.resize(static_cast<size_t>(natoms) * nsamples);
  inv_norm_.resize(static_cast<size_t>(natoms));
  gram_.resize(static_cast<size_t>(natoms) * natoms);
  atom_ready_.assign(static_cast<size_t>(natoms), 0);
  row_ready_.assign(static_cast<size_t>(natoms), 0);
}

}  // namespace na64::waveform
