// Precomputed, per-fitter quantities for the common case (no masked sample): the whitened,
// pedestal-projected template and derivative at every time phase with their 2x2 inverse
// normal matrix (optimal-filter coefficients), and the NNLS dictionary with its Gram matrix.
#pragma once
#include <cstddef>
#include <vector>

#include "waveform/pulse_template.hpp"
#include "waveform/sample_space.hpp"

namespace na64::waveform {

// Whitened, projected T(t_k - tau) and -T'(t_k - tau); ew/dw receive the whitened
// (unprojected) indicator dot products used to read the pedestals back.
struct ExactBasis {
  double f[kMaxSamples];
  double d[kMaxSamples];
  double ef[2], ed[2];
};
void exact_basis(const SampledShape& shape, const SampleSpace& space, double tau, ExactBasis& out);
// The template column alone (out.f of exact_basis, same values): what a dictionary atom needs.
void exact_template(const SampledShape& shape, const SampleSpace& space, double tau, double* f);

struct PhaseTable {
  double tau_lo = 0, step = 1, inv_step = 1;
  int nphase = 0, nsamples = 0;
  std::vector<double> f, d;   // nphase * nsamples
  std::vector<double> minv;   // nphase * 3: inverse normal matrix (11, 12, 22)
  std::vector<double> inv_ff; // nphase: 1 / (f . f), amplitude-only fit at a fixed time
  std::vector<double> normal; // nphase * 3: f . f, f . d, d . d (the normal matrix itself)
  // Second-order (curvature) terms: the least-squares response u = Minv [F.S, D.S] to the
  // template's second derivative S, and the indicator products of f, -f' and f'' (whitened,
  // unprojected) to read the pedestals back: nphase * 2 each.
  std::vector<double> curv_u, ind_f, ind_d, ind_s;
  std::vector<double> curv_perp2;  // nphase: |part of S orthogonal to F and D|^2

  void build(const SampledShape& shape, const SampleSpace& space, double tau_lo, double tau_hi, double step);
  int nearest(double tau) const {
    const double u = (tau - tau_lo) * inv_step + 0.5;
    if (!(u > 0.0)) return 0;
    if (u >= nphase - 1) return nphase - 1;
    return static_cast<int>(u);
  }
  double tau_of(int p) const { return tau_lo + step * p; }
  const double* f_row(int p) const { return &f[static_cast<std::size_t>(p) * nsamples]; }
  const double* d_row(int p) const { return &d[static_cast<std::size_t>(p) * nsamples]; }
};

struct Dictionary {
  double tau_lo = 0, step = 1;
  int natoms = 0, nsamples = 0;

  // Reserves storage once; later builds of the same size reuse it. A lazy build (the
  // per-window dictionary of a window with masked samples) computes an atom only when it is
  // first asked for (the fast path of the pile-up search looks at a dozen atoms near one
  // bump, not all of them) and a Gram row only when row() first asks for it (the NNLS needs
  // the rows of its few active atoms). A lazy dictionary must belong to one thread (and its
  // space must outlive its use); an eager one is read-only.
  void build(const SampledShape& shape, const SampleSpace& space, double tau_lo, double tau_hi, double step,
             bool lazy = false);
  double tau_of(int j) const { return tau_lo + step * j; }
  // Atom j: the whitened, projected template peaking at tau_of(j).
  const double* atom(int j) const {
    if (!atom_ready_[static_cast<std::size_t>(j)]) fill_atom(j);
    return &atoms_[static_cast<std::size_t>(j) * nsamples];
  }
  // 1 / |atom j| (0 for an atom that lies outside the window).
  double inv_norm(int j) const {
    if (!atom_ready_[static_cast<std::size_t>(j)]) fill_atom(j);
    return inv_norm_[static_cast<std::size_t>(j)];
  }
  // All of them (computing the missing atoms of a lazy dictionary).
  const double* inv_norms() const {
    fill_all_atoms();
    return inv_norm_.data();
  }
  // Row j of the Gram matrix (atom j . every atom).
  const double* row(int j) const {
    if (!row_ready_[static_cast<std::size_t>(j)]) fill_row(j);
    return &gram_[static_cast<std::size_t>(j) * natoms];
  }

 private:
  void fill_atom(int j) const;
  void fill_all_atoms() const;
  void fill_row(int j) const;
  const SampledShape* shape_ = nullptr;
  const SampleSpace* space_ = nullptr;
  mutable std::vector<double> atoms_;     // natoms * nsamples
  mutable std::vector<double> inv_norm_;  // natoms
  mutable std::vector<unsigned char> atom_ready_;
  mutable std::vector<double> gram_;  // natoms * natoms
  mutable std::vector<unsigned char> row_ready_;
};

}  // namespace na64::waveform
