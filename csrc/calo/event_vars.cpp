#include "calo/event_vars.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"

namespace na64::calo {

void validate_layout(const CaloLayout& l) {
  auto inside = [&](const char* what, int begin, int count) {
    if (count < 0 || begin < 0 || begin + count > l.n_cells)
      throw InputError(concat("calo layout: ", what, " occupies cells ", begin, "..", begin + count - 1,
                              ", outside the ", l.n_cells, " cells of the layout"));
  };
  if (l.ecal_sections < 1 || l.ecal_nx < 1 || l.ecal_ny < 1)
    throw InputError(concat("calo layout: ECAL ", l.ecal_sections, "x", l.ecal_nx, "x", l.ecal_ny,
                            ", expected every dimension >= 1"));
  if (l.hcal_modules < 0 || l.hcal_nx < 1 || l.hcal_ny < 1)
    throw InputError(concat("calo layout: HCAL ", l.hcal_modules, "x", l.hcal_nx, "x", l.hcal_ny,
                            ", expected modules >= 0 and cells >= 1"));
  inside("ECAL", l.ecal_begin, l.ecal_sections * l.ecal_nx * l.ecal_ny);
  inside("HCAL", l.hcal_begin, l.hcal_modules * l.hcal_nx * l.hcal_ny);
  inside("VETO", l.veto_begin, 2 * l.veto_modules);
  inside("SRD", l.srd_begin, l.srd_modules);
  if (!(l.ecal_pitch_mm > 0.0)) throw InputError(concat("calo layout: ECAL pitch ", l.ecal_pitch_mm, " mm"));
}

double veto_module_energy(double a, double b, double ratio) {
  const double lo = std::min(a, b), hi = std::max(a, b);
  if (!(hi > 0.0)) return 0.0;
  if (lo < ratio * hi) return hi;
  return std::sqrt(a * b);
}

void event_variables(const double* e_in, const double* e_near, const double* e_out, std::size_t n_events,
                     const CaloLayout& l, double veto_ratio, EventVariables& o) {
  validate_layout(l);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int ncell = l.n_cells;
  const int tower_n = l.ecal_nx * l.ecal_ny;
  const int hcal_cells = l.hcal_nx * l.hcal_ny;
  const int hcal_centre = (l.hcal_nx / 2) * l.hcal_ny + l.hcal_ny / 2;
  const double pitch = l.ecal_pitch_mm;
  for (std::size_t e = 0; e < n_events; ++e) {
    const double* in = e_in + e * ncell;
    const double* near = e_near + e * ncell;
    const double* out = e_out + e * ncell;
    const double* ecal = in + l.ecal_begin;
    double total = 0.0, prs = 0.0, best = -std::numeric_limits<double>::infinity();
    int best_i = -1;
    double sx = 0.0, sy = 0.0, sw = 0.0;
    for (int i = 0; i < tower_n; ++i) {
      double tower = 0.0;
      for (int s = 0; s < l.ecal_sections; ++s) tower += ecal[s * tower_n + i];
      total += tower;
      if (l.ecal_sections == 2) prs += ecal[i];
      if (tower > best) best = tower, best_i = i;
      if (tower > 0.0) {
        const int ix = i / l.ecal_ny, iy = i % l.ecal_ny;
        sw += tower;
        sx += tower * (ix - 0.5 * (l.ecal_nx - 1)) * pitch;
        sy += tower * (iy - 0.5 * (l.ecal_ny - 1)) * pitch;
      }
    }
    double e3 = 0.0;
    if (!(best > 0.0)) best_i = -1;
    if (best_i >= 0) {
      const int bx = best_i / l.ecal_ny, by = best_i % l.ecal_ny;
      for (int ix = std::max(0, bx - 1); ix <= std::min(l.ecal_nx - 1, bx + 1); ++ix)
        for (int iy = std::max(0, by - 1); iy <= std::min(l.ecal_ny - 1, by + 1); ++iy)
          for (int s = 0; s < l.ecal_sections; ++s) e3 += ecal[s * tower_n + ix * l.ecal_ny + iy];
    }
    o.e_ecal[e] = total;
    o.e_prs[e] = prs;
    o.e_ecal_3x3[e] = e3;
    o.e_max_cell[e] = best_i >= 0 ? best : 0.0;
    o.max_x[e] = static_cast<int16_t>(best_i >= 0 ? best_i / l.ecal_ny : -1);
    o.max_y[e] = static_cast<int16_t>(best_i >= 0 ? best_i % l.ecal_ny : -1);
    o.cog_x[e] = sw > 0.0 ? sx / sw : nan;
    o.cog_y[e] = sw > 0.0 ? sy / sw : nan;
    double bad_ecal = 0.0, pileup_ecal = 0.0;
    for (int i = 0; i < l.ecal_sections * tower_n; ++i) {
      bad_ecal += near[l.ecal_begin + i];
      pileup_ecal += out[l.ecal_begin + i];
    }
    o.e_bad_ecal[e] = bad_ecal;
    o.e_pileup_ecal[e] = pileup_ecal;

    double hcal = 0.0, central = 0.0, bad_hcal = 0.0, pileup_hcal = 0.0;
    for (int m = 0; m < l.hcal_modules; ++m) {
      const double* mod = in + l.hcal_begin + m * hcal_cells;
      double sum = 0.0;
      for (int i = 0; i < hcal_cells; ++i) {
        sum += mod[i];
        bad_hcal += near[l.hcal_begin + m * hcal_cells + i];
        pileup_hcal += out[l.hcal_begin + m * hcal_cells + i];
      }
      central += mod[hcal_centre];
      o.hcal_module[e * l.hcal_modules + m] = sum;
      hcal += sum;
    }
    o.e_hcal[e] = hcal;
    o.hcal_r[e] = hcal > 0.0 ? (hcal - central) / hcal : 0.0;
    o.e_bad_hcal[e] = bad_hcal;
    o.e_pileup_hcal[e] = pileup_hcal;

    double veto = 0.0;
    for (int m = 0; m < l.veto_modules; ++m) {
      const double v = veto_module_energy(in[l.veto_begin + 2 * m], in[l.veto_begin + 2 * m + 1], veto_ratio);
      o.veto_module[e * l.veto_modules + m] = v;
      veto += v;
    }
    o.e_veto[e] = veto;
    double srd = 0.0;
    for (int m = 0; m < l.srd_modules; ++m) {
      o.srd_module[e * l.srd_modules + m] = in[l.srd_begin + m];
      srd += in[l.srd_begin + m];
    }
    o.e_srd[e] = srd;
  }
}

}  // namespace na64::calo
