// Precomputed, per-fitter quantities for the common case (no masked sample): the whitened,
// pedestal-projected template and derivative at every time phase with their 2x2 inverse
// normal matrix (optimal-filter coefficients), and the NNLS dictionary with its Gram matrix.
// A window with masked samples derives its own table and dictionary from the fitter's raw
// rows, phase by phase and atom by atom as the fit asks for them (masked_tables.cpp).
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

// Per-phase values are read through the accessors: a table derived for a window with masked
// samples (derive_masked) computes a phase's values when first asked for.
struct PhaseTable {
  double tau_lo = 0, step = 1, inv_step = 1;
  int nphase = 0, nsamples = 0;
  mutable std::vector<double> f, d;   // nphase * nsamples
  mutable std::vector<double> minv;   // nphase * 3: inverse normal matrix (11, 12, 22)
  mutable std::vector<double> inv_ff; // nphase: 1 / (f . f), amplitude-only fit at a fixed time
  mutable std::vector<double> normal; // nphase * 3: f . f, f . d, d . d (the normal matrix itself)
  // Second-order (curvature) terms: the least-squares response u = Minv [F.S, D.S] to the
  // template's second derivative S, and the indicator products of f, -f' and f'' (whitened,
  // unprojected) to read the pedestals back: nphase * 2 each.
  mutable std::vector<double> curv_u, ind_f, ind_d, ind_s;
  mutable std::vector<double> curv_perp2;  // nphase: |part of S orthogonal to F and D|^2
  // White noise only (empty otherwise): the whitened, unprojected T, -T' and T'' at every
  // phase over the whole window, from which a window with masked samples derives its rows.
  std::vector<double> raw_f, raw_d, raw_s;

  void build(const SampledShape& shape, const SampleSpace& space, double tau_lo, double tau_hi, double step);
  // This table for a window whose samples outside `space` are masked (space: white noise, the
  // window's own), from parent's raw rows phase by phase when first used: the masked
  // samples' entries zeroed and the pedestal directions of the used samples projected out.
  // Both must outlive this table's use, which must stay in one thread. Storage is reused.
  void derive_masked(const PhaseTable& parent, const SampleSpace& space);
  bool can_derive_masked() const { return !raw_f.empty(); }
  int nearest(double tau) const {
    const double u = (tau - tau_lo) * inv_step + 0.5;
    if (!(u > 0.0)) return 0;
    if (u >= nphase - 1) return nphase - 1;
    return static_cast<int>(u);
  }
  double tau_of(int p) const { return tau_lo + step * p; }
  const double* f_row(int p) const { return at(f, p, nsamples); }
  const double* d_row(int p) const { return at(d, p, nsamples); }
  const double* minv_at(int p) const { return at(minv, p, 3); }
  const double* normal_at(int p) const { return at(normal, p, 3); }
  double inv_ff_at(int p) const { return *at(inv_ff, p, 1); }
  const double* curv_u_at(int p) const { return at(curv_u, p, 2); }
  double curv_perp2_at(int p) const { return *at(curv_perp2, p, 1); }
  // the indicator products of phase p: two values each (one per pedestal indicator)
  const double* ind_f_at(int p) const { return at(ind_f, p, 2); }
  const double* ind_d_at(int p) const { return at(ind_d, p, 2); }
  const double* ind_s_at(int p) const { return at(ind_s, p, 2); }

 private:
  // phase p's `width` values of one per-phase array, computed first if need be
  const double* at(const std::vector<double>& values, int p, int width) const {
    if (lazy_ && !ready_[static_cast<std::size_t>(p)]) fill_masked(p);
    return &values[static_cast<std::size_t>(p) * static_cast<std::size_t>(width)];
  }
  void fill_masked(int p) const;
  // normal matrix, its inverse and the curvature terms of phase p from its projected
  // template, derivative and second-derivative rows (build and fill_masked alike)
  void set_phase_values(int p, const double* f, const double* d, const double* s) const;
  bool lazy_ = false;
  const PhaseTable* parent_ = nullptr;
  const SampleSpace* space_ = nullptr;
  mutable std::vector<unsigned char> ready_;
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
  // Like PhaseTable::derive_masked: atoms from parent's raw (whitened, unprojected) atoms,
  // computed when first asked for. parent must have been built eagerly for white noise.
  void derive_masked(const Dictionary& parent, const SampleSpace& space);
  bool can_derive_masked() const { return !raw_atoms_.empty(); }
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
  void fill_masked_atom(int j, double* a) const;  // from parent_'s raw atom (masked_tables.cpp)
  void fill_all_atoms() const;
  void fill_row(int j) const;
  const SampledShape* shape_ = nullptr;
  const SampleSpace* space_ = nullptr;
  const Dictionary* parent_ = nullptr;    // derived: atoms from parent's raw atoms
  std::vector<double> raw_atoms_;         // white noise, eager: whitened, unprojected templates
  mutable std::vector<double> atoms_;     // natoms * nsamples
  mutable std::vector<double> inv_norm_;  // natoms
  mutable std::vector<unsigned char> atom_ready_;
  mutable std::vector<double> gram_;  // natoms * natoms
  mutable std::vector<unsigned char> row_ready_;
};

}  // namespace na64::waveform
