// Event-level calorimeter variables as NA64 analyses use them, from dense per-event cell
// energies (in-time and out-of-time) laid out by CaloLayout.
#pragma once
#include <cstddef>
#include <cstdint>

namespace na64::calo {

// Where each detector sits in the per-event cell vector. ECAL cells are
// [section][x][y], HCAL [module][x][y], VETO [module][pmt], SRD [module].
struct CaloLayout {
  int n_cells = 0;
  int ecal_begin = 0, ecal_sections = 2, ecal_nx = 6, ecal_ny = 6;
  int hcal_begin = 72, hcal_modules = 4, hcal_nx = 3, hcal_ny = 3;
  int veto_begin = 108, veto_modules = 3;
  int srd_begin = 114, srd_modules = 3;
  double ecal_pitch_mm = 38.2;
};

void validate_layout(const CaloLayout& layout);

// All arrays have n_events rows; per-module arrays are n_events x modules. MeV and mm.
struct EventVariables {
  double* e_ecal = nullptr;
  double* e_prs = nullptr;  // section 0 when the ECAL has two sections, else 0
  double* e_ecal_3x3 = nullptr;
  double* e_max_cell = nullptr;
  int16_t* max_x = nullptr;  // -1 when the ECAL is empty
  int16_t* max_y = nullptr;
  double* cog_x = nullptr;  // energy-weighted tower centres, NaN when empty
  double* cog_y = nullptr;
  double* e_hcal = nullptr;
  double* hcal_module = nullptr;
  double* hcal_r = nullptr;  // (E_tot - E_central cells) / E_tot, 0 when E_tot <= 0
  double* veto_module = nullptr;
  double* e_veto = nullptr;
  double* srd_module = nullptr;
  double* e_srd = nullptr;
  double* e_bad_ecal = nullptr;  // energy of ambiguous timing (e_near)
  double* e_bad_hcal = nullptr;
  double* e_pileup_ecal = nullptr;  // energy of resolved out-of-time pulses (e_out)
  double* e_pileup_hcal = nullptr;
};

// VETO module energy: sqrt(a*b) of its two PMTs, or the larger reading when the smaller is
// below `veto_ratio` times it (one PMT dead or clipped).
double veto_module_energy(double a, double b, double veto_ratio);

void event_variables(const double* e_in, const double* e_near, const double* e_out, std::size_t n_events,
                     const CaloLayout& layout, double veto_ratio, EventVariables& out);

}  // namespace na64::calo
