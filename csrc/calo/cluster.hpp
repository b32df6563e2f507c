// ECAL clustering on a rectangular grid of towers (all sections summed per tower):
// connected regions of cells above threshold, local maxima as seeds, energy of shared
// cells split by the expected lateral profile and iterated until positions settle,
// positions from logarithmic weights, and a transverse-shower chi2 per cluster.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "calo/shower_profile.hpp"

namespace na64::calo {

struct ClusterConfig {
  double pitch_mm = 38.2;
  double cell_threshold_mev = 15.0;   // towers below join no cluster
  double seed_threshold_mev = 300.0;  // a local maximum must reach this to seed
  double log_weight_w0 = 4.0;         // w_i = max(0, w0 + ln(E_i / E_cluster))
  double move_tolerance_mm = 0.05;    // sharing iterations stop when no seed moves more
  int max_iterations = 50;
  ShowerProfile profile;
  // Variance of a cell's energy for the shower chi2, E = expected cell energy (MeV):
  // noise^2 + stochastic^2 * E + (fraction * E)^2.
  double chi2_noise_mev = 10.0;
  double chi2_stochastic_mev = 15.0;  // MeV^(1/2)
  double chi2_fraction = 0.04;
};

// One row per cluster, events in increasing order. Positions in mm from the grid centre.
struct ClusterTable {
  std::vector<int64_t> event;
  std::vector<double> energy;  // MeV, all sections
  std::vector<double> e_first_section;  // MeV in section 0 (the pre-shower when n_sections = 2)
  std::vector<double> x, y;
  std::vector<double> chi2;  // transverse-shower chi2 over the 3x3 cells around the seed
  std::vector<int32_t> ndf;
  std::vector<int32_t> n_cells;  // cells carrying at least half of their energy for this cluster
  std::vector<int16_t> seed_x, seed_y;
  std::vector<int16_t> iterations;
  std::vector<uint8_t> pileup;  // clusters of out-of-time energy

  void reserve(std::size_t n);
  std::size_t size() const { return event.size(); }
};

// energies: n_events x n_sections x nx x ny (MeV), C order. Appends to `out`; rows are
// flagged pileup = `pileup`. nx * ny must not exceed 64.
void cluster_grid(const double* energies, std::size_t n_events, int n_sections, int nx, int ny,
                  const ClusterConfig& config, bool pileup, ClusterTable& out);

void validate_cluster_config(const ClusterConfig& config);

// Per-cell profile fractions over a grid: edges are cell boundaries relative to the shower
// axis (nx+1 and ny+1 values), out is nx x ny. Shares corner evaluations between cells.
void grid_fractions(const ShowerProfile& profile, const double* x_edges, int nx,
                    const double* y_edges, int ny, double* out);

}  // namespace na64::calo
