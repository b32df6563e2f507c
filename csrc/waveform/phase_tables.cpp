#include "waveform/phase_tables.hpp"

#include <algorithm>
#include <cmath>

#include "waveform/small_linalg.hpp"

namespace na64::waveform {

void exact_basis(const SampledShape& shape, const SampleSpace& space, double tau, ExactBasis& out) {
  const int n = space.nsamples;
  if (space.parity_means) {
    // White noise, nothing masked, both pedestals free: whitening is a scale and the
    // projection subtracts the even and odd means, which are also the indicator products.
    shape.eval_window(tau, n, out.f, out.d, space.inv_sigma, -space.inv_sigma);
    double sf[2] = {0.0, 0.0}, sd[2] = {0.0, 0.0};
    for (int k = 0; k < n; ++k) {
      sf[k & 1] += out.f[k];
      sd[k & 1] += out.d[k];
    }
    const int count[2] = {(n + 1) / 2, n / 2};
    double mf[2], md[2];
    for (int p = 0; p < 2; ++p) {
      out.ef[p] = sf[p] * space.inv_sigma;
      out.ed[p] = sd[p] * space.inv_sigma;
      mf[p] = sf[p] / count[p];
      md[p] = sd[p] / count[p];
    }
    for (int k = 0; k < n; ++k) {
      out.f[k] -= mf[k & 1];
      out.d[k] -= md[k & 1];
    }
    return;
  }
  double t[kMaxSamples], tp[kMaxSamples];
  shape.eval_window(tau, n, t, tp);
  for (int k = 0; k < n; ++k) tp[k] = -tp[k];
  space.whiten(t, out.f);
  space.whiten(tp, out.d);
  for (int p = 0; p < space.nindicator; ++p) {
    out.ef[p] = dot(space.indicator[p], out.f, n);
    out.ed[p] = dot(space.indicator[p], out.d, n);
  }
  space.project(out.f);
  space.project(out.d);
}

void exact_template(const SampledShape& shape, const SampleSpace& space, double tau, double* f) {
  if (space.parity_means) {
    ExactBasis b;
    exact_basis(shape, space, tau, b);
    std::copy(b.f, b.f + space.nsamples, f);
    return;
  }
  double t[kMaxSamples], tp[kMaxSamples];
  shape.eval_window(tau, space.nsamples, t, tp);
  space.whiten(t, f);
  space.project(f);
}

void PhaseTable::build(const SampledShape& shape, const SampleSpace& space, double lo, double hi, double st) {
  tau_lo = lo;
  step = st;
  inv_step = 1.0 / st;
  nsamples = space.nsamples;
  nphase = static_cast<int>(std::floor((hi - lo) / st + 1e-9)) + 1;
  f.assign(static_cast<size_t>(nphase) * nsamples, 0.0);
  d.assign(static_cast<size_t>(nphase) * nsamples, 0.0);
  minv.assign(static_cast<size_t>(nphase) * 3, 0.0);
  inv_ff.assign(static_cast<size_t>(nphase), 0.0);
  normal.assign(static_cast<size_t>(nphase) * 3, 0.0);
  curv_u.assign(static_cast<size_t>(nphase) * 2, 0.0);
  ind_f.assign(static_cast<size_t>(nphase) * 2, 0.0);
  ind_d.assign(static_cast<size_t>(nphase) * 2, 0.0);
  ind_s.assign(static_cast<size_t>(nphase) * 2, 0.0);
  curv_perp2.assign(static_cast<size_t>(nphase), 0.0);
  lazy_ = false;
  parent_ = nullptr;
  space_ = nullptr;
  // raw rows for windows with masked samples: white noise, whose whitening is a scale
  const bool raw = space.white;
  const size_t rows = raw ? static_cast<size_t>(nphase) * nsamples : 0;
  raw_f.assign(rows, 0.0);
  raw_d.assign(rows, 0.0);
  raw_s.assign(rows, 0.0);
  const double h = 0.01 * shape.sampling_ns();  // finite-difference step for f
  ExactBasis b;
  for (int p = 0; p < nphase; ++p) {
    if (raw) {
      double* rf = &raw_f[static_cast<size_t>(p) * nsamples];
      double* rd = &raw_d[static_cast<size_t>(p) * nsamples];
      shape.eval_window(tau_of(p), nsamples, rf, rd);
      for (int k = 0; k < nsamples; ++k) {
        rf[k] *= space.inv_sigma;
        rd[k] *= -space.inv_sigma;
      }
    }
    exact_basis(shape, space, tau_of(p), b);
    std::copy(b.f, b.f + nsamples, &f[static_cast<size_t>(p) * nsamples]);
    std::copy(b.d, b.d + nsamples, &d[static_cast<size_t>(p) * nsamples]);
    // f''(t - tau) = d/dt f'(t - tau), from f' one small step either side.
    double fm[kMaxSamples], gm[kMaxSamples], fp[kMaxSamples], gp[kMaxSamples], s2[kMaxSamples], sw[kMaxSamples];
    shape.eval_window(tau_of(p) - h, nsamples, fm, gm);
    shape.eval_window(tau_of(p) + h, nsamples, fp, gp);
    for (int k = 0; k < nsamples; ++k) s2[k] = (gm[k] - gp[k]) / (2.0 * h);
    space.whiten(s2, sw);
    if (raw) std::copy(sw, sw + nsamples, &raw_s[static_cast<size_t>(p) * nsamples]);
    for (int q = 0; q < space.nindicator; ++q) {
      ind_f[2 * p + q] = b.ef[q];
      ind_d[2 * p + q] = b.ed[q];
      ind_s[2 * p + q] = dot(space.indicator[q], sw, nsamples);
    }
    space.project(sw);
    set_phase_values(p, b.f, b.d, sw);
  }
}

void PhaseTable::set_phase_values(int p, const double* fp, const double* dp, const double* sp) const {
  const double m11 = dot(fp, fp, nsamples), m12 = dot(fp, dp, nsamples), m22 = dot(dp, dp, nsamples);
  const double det = m11 * m22 - m12 * m12;
  normal[3 * p + 0] = m11;
  normal[3 * p + 1] = m12;
  normal[3 * p + 2] = m22;
  inv_ff[p] = m11 > 1e-12 ? 1.0 / m11 : 0.0;
  // A phase whose pulse lies (almost) outside the window cannot be fitted: zero
  // coefficients make the optimal filter return "no pulse" there instead of garbage.
  const bool solvable = det > 1e-12 * (m11 * m22 + 1e-300) && m11 > 1e-12;
  minv[3 * p + 0] = solvable ? m22 / det : 0.0;
  minv[3 * p + 1] = solvable ? -m12 / det : 0.0;
  minv[3 * p + 2] = solvable ? m11 / det : 0.0;
  const double fs = dot(fp, sp, nsamples), ds = dot(dp, sp, nsamples);
  curv_u[2 * p + 0] = minv[3 * p + 0] * fs + minv[3 * p + 1] * ds;
  curv_u[2 * p + 1] = minv[3 * p + 1] * fs + minv[3 * p + 2] * ds;
  curv_perp2[p] = std::max(0.0, dot(sp, sp, nsamples) - fs * curv_u[2 * p] - ds * curv_u[2 * p + 1]);
}

void Dictionary::build(const SampledShape& shape, const SampleSpace& space, double lo, double hi, double st,
                       bool lazy) {
  tau_lo = lo;
  step = st;
  nsamples = space.nsamples;
  natoms = static_cast<int>(std::floor((hi - lo) / st + 1e-9)) + 1;
  shape_ = &shape;
  space_ = &space;
  parent_ = nullptr;
  raw_atoms_.clear();
  if (!lazy && space.white) {  // what windows with masked samples derive their atoms from
    raw_atoms_.resize(static_cast<size_t>(natoms) * nsamples);
    double slope[kMaxSamples];
    for (int j = 0; j < natoms; ++j) {
      double* a = &raw_atoms_[static_cast<size_t>(j) * nsamples];
      shape.eval_window(tau_of(j), nsamples, a, slope);
      for (int k = 0; k < nsamples; ++k) a[k] *= space.inv_sigma;
    }
  }
  atoms_.resize(static_cast<size_t>(natoms) * nsamples);
  inv_norm_.resize(static_cast<size_t>(natoms));
  gram_.resize(static_cast<size_t>(natoms) * natoms);
  atom_ready_.assign(static_cast<size_t>(natoms), 0);
  row_ready_.assign(static_cast<size_t>(natoms), 0);
  if (!lazy) {
    fill_all_atoms();
    for (int i = 0; i < natoms; ++i) fill_row(i);
    shape_ = nullptr;  // complete: nothing is computed later
    space_ = nullptr;
  }
}

void Dictionary::fill_atom(int j) const {
  double* a = &atoms_[static_cast<size_t>(j) * nsamples];
  if (parent_ != nullptr) {
    fill_masked_atom(j, a);
  } else {
    exact_template(*shape_, *space_, tau_of(j), a);
  }
  const double g = dot(a, a, nsamples);
  inv_norm_[static_cast<size_t>(j)] = g > 1e-20 ? 1.0 / std::sqrt(g) : 0.0;
  atom_ready_[static_cast<size_t>(j)] = 1;
}

void Dictionary::fill_all_atoms() const {
  for (int j = 0; j < natoms; ++j)
    if (!atom_ready_[static_cast<size_t>(j)]) fill_atom(j);
}

void Dictionary::fill_row(int j) const {
  // dot() multiplies element by element in a fixed order: dot(a, b) == dot(b, a) exactly, so
  // rows filled one at a time form the same symmetric matrix as a full build.
  fill_all_atoms();
  double* r = &gram_[static_cast<size_t>(j) * natoms];
  const double* aj = atom(j);
  for (int i = 0; i < natoms; ++i) r[i] = dot(aj, atom(i), nsamples);
  row_ready_[static_cast<size_t>(j)] = 1;
}

}  // namespace na64::waveform
