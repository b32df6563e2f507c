#include "calo/cluster.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/error.hpp"

namespace na64::calo {
namespace {

constexpr int kMaxCells = 64;
constexpr int kMaxSeeds = 32;

struct Grid {
  int nx, ny;
  double pitch;
  double centre_x(int ix) const { return (ix - 0.5 * (nx - 1)) * pitch; }
  double centre_y(int iy) const { return (iy - 0.5 * (ny - 1)) * pitch; }
};

// Scratch state of one event, on the stack: no heap traffic per event.
struct EventState {
  std::array<double, kMaxCells> tower{};
  std::array<double, kMaxCells> first{};
  std::array<int8_t, kMaxCells> region{};
  std::array<int, kMaxCells> seeds{};
  int n_seeds = 0;
};

bool is_local_maximum(const Grid& g, const std::array<double, kMaxCells>& t, int i) {
  const int ix = i / g.ny, iy = i % g.ny;
  for (int dx = -1; dx <= 1; ++dx)
    for (int dy = -1; dy <= 1; ++dy) {
      if (!dx && !dy) continue;
      const int jx = ix + dx, jy = iy + dy;
      if (jx < 0 || jy < 0 || jx >= g.nx || jy >= g.ny) continue;
      const int j = jx * g.ny + jy;
      // ties go to the lower index so a plateau yields exactly one seed
      if (t[j] > t[i] || (t[j] == t[i] && j < i)) return false;
    }
  return true;
}

// Connected regions (8-neighbour adjacency) of cells above threshold; -1 = none.
int label_regions(const Grid& g, EventState& s, double threshold) {
  const int n = g.nx * g.ny;
  std::array<int, kMaxCells> stack{};
  for (int i = 0; i < n; ++i) s.region[i] = -1;
  int n_regions = 0;
  for (int i = 0; i < n; ++i) {
    if (s.region[i] >= 0 || !(s.tower[i] > threshold)) continue;
    int top = 0;
    stack[top++] = i;
    s.region[i] = static_cast<int8_t>(n_regions);
    while (top) {
      const int c = stack[--top];
      const int cx = c / g.ny, cy = c % g.ny;
      for (int dx = -1; dx <= 1; ++dx)
        for (int dy = -1; dy <= 1; ++dy) {
          const int jx = cx + dx, jy = cy + dy;
          if (jx < 0 || jy < 0 || jx >= g.nx || jy >= g.ny) continue;
          const int j = jx * g.ny + jy;
          if (s.region[j] >= 0 || !(s.tower[j] > threshold)) continue;
          s.region[j] = static_cast<int8_t>(n_regions);
          stack[top++] = j;
        }
    }
    ++n_regions;
  }
  return n_regions;
}

void log_weight_position(const Grid& g, const double* share, const std::array<int, kMaxCells>& cells,
                         int n_cells, double energy, double w0, double fallback_x,
                         double fallback_y, double& x, double& y) {
  double sw = 0.0, sx = 0.0, sy = 0.0;
  if (energy > 0.0) {
    // cells below E * exp(-w0) get no weight: skip their logarithm
    const double floor = energy * std::exp(-w0);
    for (int k = 0; k < n_cells; ++k) {
      const int i = cells[k];
      if (!(share[i] > floor)) continue;
      const double w = w0 + std::log(share[i] / energy);
      if (w <= 0.0) continue;
      sw += w;
      sx += w * g.centre_x(i / g.ny);
      sy += w * g.centre_y(i % g.ny);
    }
  }
  if (sw > 0.0) {
    x = sx / sw;
    y = sy / sw;
  } else {
    x = fallback_x;
    y = fallback_y;
  }
}

// Profile fractions of every grid cell for a shower at (x, y).
void fractions_at(const Grid& g, const ShowerProfile& p, double x, double y, double* out) {
  std::array<double, 17> xe{}, ye{};
  for (int a = 0; a <= g.nx; ++a) xe[a] = (a - 0.5 * g.nx) * g.pitch - x;
  for (int b = 0; b <= g.ny; ++b) ye[b] = (b - 0.5 * g.ny) * g.pitch - y;
  grid_fractions(p, xe.data(), g.nx, ye.data(), g.ny, out);
}

struct ClusterResult {
  double chi2;
  int ndf;
};

// Chi2 of the 3x3 cells around the seed against the profile at the cluster position,
// normalised to the cluster energy corrected for leakage outside the grid.
ClusterResult shower_chi2(const Grid& g, const ClusterConfig& c, const double* share, int seed,
                          double energy, double x, double y) {
  const int sx = seed / g.ny, sy = seed % g.ny;
  const int x0 = std::max(0, sx - 1), x1 = std::min(g.nx - 1, sx + 1);
  const int y0 = std::max(0, sy - 1), y1 = std::min(g.ny - 1, sy + 1);
  const int nx = x1 - x0 + 1, ny = y1 - y0 + 1;
  std::array<double, 4> xe{}, ye{};
  for (int a = 0; a <= nx; ++a) xe[a] = (x0 + a - 0.5 * g.nx) * g.pitch - x;
  for (int b = 0; b <= ny; ++b) ye[b] = (y0 + b - 0.5 * g.ny) * g.pitch - y;
  std::array<double, 9> f{};
  grid_fractions(c.profile, xe.data(), nx, ye.data(), ny, f.data());
  double in_3x3 = 0.0;
  double measured_3x3 = 0.0;
  for (int a = 0; a < nx; ++a)
    for (int b = 0; b < ny; ++b) {
      in_3x3 += f[a * ny + b];
      measured_3x3 += share[(x0 + a) * g.ny + (y0 + b)];
    }
  // Normalising to the measured 3x3 sum keeps the chi2 a test of shape, not of leakage.
  const double total = in_3x3 > 0.0 ? measured_3x3 / in_3x3 : energy;
  double chi2 = 0.0;
  for (int a = 0; a < nx; ++a)
    for (int b = 0; b < ny; ++b) {
      const double expected = total * f[a * ny + b];
      const double measured = share[(x0 + a) * g.ny + (y0 + b)];
      const double var = c.chi2_noise_mev * c.chi2_noise_mev +
                         c.chi2_stochastic_mev * c.chi2_stochastic_mev * std::max(expected, 0.0) +
                         (c.chi2_fraction * expected) * (c.chi2_fraction * expected);
      chi2 += (measured - expected) * (measured - expected) / var;
    }
  return {chi2, std::max(1, nx * ny - 3)};
}

void emit(ClusterTable& out, int64_t event, const Grid& g, const ClusterConfig& c,
          const double* share, const double* share_first, const std::array<int, kMaxCells>& cells,
          int n_cells, int seed, double x, double y, int iterations, bool pileup,
          const double* tower) {
  double energy = 0.0, first = 0.0;
  int owned = 0;
  for (int k = 0; k < n_cells; ++k) {
    const int i = cells[k];
    energy += share[i];
    first += share_first[i];
    if (share[i] >= 0.5 * tower[i] && share[i] > 0.0) ++owned;
  }
  const ClusterResult r = shower_chi2(g, c, share, seed, energy, x, y);
  out.event.push_back(event);
  out.energy.push_back(energy);
  out.e_first_section.push_back(first);
  out.x.push_back(x);
  out.y.push_back(y);
  out.chi2.push_back(r.chi2);
  out.ndf.push_back(r.ndf);
  out.n_cells.push_back(owned);
  out.seed_x.push_back(static_cast<int16_t>(seed / g.ny));
  out.seed_y.push_back(static_cast<int16_t>(seed % g.ny));
  out.iterations.push_back(static_cast<int16_t>(iterations));
  out.pileup.push_back(pileup ? 1 : 0);
}

void cluster_region(const Grid& g, const ClusterConfig& c, const EventState& s, int region,
                    int64_t event, bool pileup, ClusterTable& out) {
  const int n = g.nx * g.ny;
  std::array<int, kMaxCells> cells{};
  int n_cells = 0;
  for (int i = 0; i < n; ++i)
    if (s.region[i] == region) cells[n_cells++] = i;
  std::array<int, kMaxCells> seeds{};
  int n_seeds = 0;
  for (int k = 0; k < s.n_seeds; ++k)
    if (s.region[s.seeds[k]] == region && n_seeds < kMaxSeeds) seeds[n_seeds++] = s.seeds[k];
  if (n_seeds == 0) return;

  std::array<double, kMaxCells> share{}, share_first{};
  if (n_seeds == 1) {
    for (int k = 0; k < n_cells; ++k) {
      share[cells[k]] = s.tower[cells[k]];
      share_first[cells[k]] = s.first[cells[k]];
    }
    double energy = 0.0;
    for (int k = 0; k < n_cells; ++k) energy += share[cells[k]];
    const int seed = seeds[0];
    double x, y;
    log_weight_position(g, share.data(), cells, n_cells, energy, c.log_weight_w0,
                        g.centre_x(seed / g.ny), g.centre_y(seed % g.ny), x, y);
    emit(out, event, g, c, share.data(), share_first.data(), cells, n_cells, seed, x, y, 1, pileup,
         s.tower.data());
    return;
  }

  // Several seeds: iterate sharing <-> positions.
  // strict local maxima are at most one per 2x2 block: 20 on any grid of <= 64 cells
  std::array<double, kMaxSeeds * kMaxCells> fractions{}, shares{};
  std::array<double, kMaxSeeds> sx{}, sy{}, se{};
  for (int k = 0; k < n_seeds; ++k) {
    sx[k] = g.centre_x(seeds[k] / g.ny);
    sy[k] = g.centre_y(seeds[k] % g.ny);
    se[k] = s.tower[seeds[k]];
  }
  int iteration = 0;
  for (; iteration < c.max_iterations; ++iteration) {
    for (int k = 0; k < n_seeds; ++k) fractions_at(g, c.profile, sx[k], sy[k], &fractions[k * n]);
    for (int m = 0; m < n_cells; ++m) {
      const int i = cells[m];
      double total = 0.0;
      for (int k = 0; k < n_seeds; ++k) total += se[k] * fractions[k * n + i];
      for (int k = 0; k < n_seeds; ++k) {
        double w;
        if (total > 0.0) {
          w = se[k] * fractions[k * n + i] / total;
        } else {  // far from every expectation: give the cell to its nearest seed
          int nearest = 0;
          double best = 1e300;
          for (int q = 0; q < n_seeds; ++q) {
            const double d = std::hypot(g.centre_x(i / g.ny) - sx[q], g.centre_y(i % g.ny) - sy[q]);
            if (d < best) best = d, nearest = q;
          }
          w = (k == nearest) ? 1.0 : 0.0;
        }
        shares[k * n + i] = w * s.tower[i];
      }
    }
    double max_move = 0.0;
    for (int k = 0; k < n_seeds; ++k) {
      double energy = 0.0;
      for (int m = 0; m < n_cells; ++m) energy += shares[k * n + cells[m]];
      double x, y;
      log_weight_position(g, &shares[k * n], cells, n_cells, energy, c.log_weight_w0,
                          g.centre_x(seeds[k] / g.ny), g.centre_y(seeds[k] % g.ny), x, y);
      max_move = std::max(max_move, std::hypot(x - sx[k], y - sy[k]));
      sx[k] = x;
      sy[k] = y;
      se[k] = std::max(energy, 1e-9);
    }
    if (max_move < c.move_tolerance_mm) {
      ++iteration;
      break;
    }
  }
  for (int k = 0; k < n_seeds; ++k) {
    std::array<double, kMaxCells> first{};
    for (int m = 0; m < n_cells; ++m) {
      const int i = cells[m];
      first[i] = s.tower[i] > 0.0 ? shares[k * n + i] / s.tower[i] * s.first[i] : 0.0;
    }
    emit(out, event, g, c, &shares[k * n], first.data(), cells, n_cells, seeds[k], sx[k], sy[k],
         iteration, pileup, s.tower.data());
  }
}

}  // namespace

void ClusterTable::reserve(std::size_t n) {
  event.reserve(n);
  energy.reserve(n);
  e_first_section.reserve(n);
  x.reserve(n);
  y.reserve(n);
  chi2.reserve(n);
  ndf.reserve(n);
  n_cells.reserve(n);
  seed_x.reserve(n);
  seed_y.reserve(n);
  iterations.reserve(n);
  pileup.reserve(n);
}

void grid_fractions(const ShowerProfile& p, const double* x_edges, int nx, const double* y_edges,
                    int ny, double* out) {
  constexpr double kTwoPi = 6.28318530717958647692;
  // corner cumulatives, without the constant 1/4 that cancels in every cell
  std::array<double, 17 * 17> corner{};
  std::array<double, 17> ax{}, ay{};
  for (int a = 0; a <= nx; ++a)
    for (int b = 0; b <= ny; ++b) corner[a * (ny + 1) + b] = 0.0;
  for (std::size_t i = 0; i < p.n_components; ++i) {
    const double bw = p.width_mm[i], b2 = bw * bw, wi = p.weight[i] / kTwoPi;
    for (int a = 0; a <= nx; ++a) ax[a] = fast_atan(x_edges[a] / bw);
    for (int b = 0; b <= ny; ++b) ay[b] = fast_atan(y_edges[b] / bw);
    for (int a = 0; a <= nx; ++a) {
      const double xa = x_edges[a];
      for (int b = 0; b <= ny; ++b) {
        const double yb = y_edges[b];
        const double cross = fast_atan(xa * yb / (bw * std::sqrt(b2 + xa * xa + yb * yb)));
        corner[a * (ny + 1) + b] += wi * (ax[a] + ay[b] + cross);
      }
    }
  }
  for (int a = 0; a < nx; ++a)
    for (int b = 0; b < ny; ++b)
      out[a * ny + b] = corner[(a + 1) * (ny + 1) + b + 1] - corner[a * (ny + 1) + b + 1] -
                        corner[(a + 1) * (ny + 1) + b] + corner[a * (ny + 1) + b];
}

void validate_cluster_config(const ClusterConfig& c) {
  validate_profile(c.profile);
  if (!(c.pitch_mm > 0.0)) throw InputError(concat("cluster config: pitch ", c.pitch_mm, " mm, expected > 0"));
  if (!(c.cell_threshold_mev >= 0.0) || !(c.seed_threshold_mev >= c.cell_threshold_mev))
    throw InputError(concat("cluster config: cell threshold ", c.cell_threshold_mev, " MeV and seed threshold ",
                            c.seed_threshold_mev, " MeV, expected 0 <= cell <= seed"));
  if (c.max_iterations < 1 || !(c.move_tolerance_mm > 0.0))
    throw InputError(concat("cluster config: max_iterations ", c.max_iterations, ", tolerance ",
                            c.move_tolerance_mm, " mm, expected >= 1 and > 0"));
  if (!(c.chi2_noise_mev > 0.0) || c.chi2_stochastic_mev < 0.0 || c.chi2_fraction < 0.0)
    throw InputError("cluster config: chi2 noise must be > 0 and the other terms >= 0");
}

void cluster_grid(const double* energies, std::size_t n_events, int n_sections, int nx, int ny,
                  const ClusterConfig& c, bool pileup, ClusterTable& out) {
  validate_cluster_config(c);
  if (nx < 1 || ny < 1 || nx > 16 || ny > 16 || nx * ny > kMaxCells)
    throw InputError(concat("cluster_grid: grid ", nx, "x", ny, ", expected at most 16 per side and ",
                            kMaxCells, " cells"));
  if (n_sections < 1) throw InputError(concat("cluster_grid: ", n_sections, " sections, expected >= 1"));
  const Grid g{nx, ny, c.pitch_mm};
  const int n = nx * ny;
  EventState s;
  for (std::size_t e = 0; e < n_events; ++e) {
    const double* ev = energies + e * static_cast<std::size_t>(n_sections) * n;
    for (int i = 0; i < n; ++i) {
      double t = 0.0;
      for (int sec = 0; sec < n_sections; ++sec) {
        const double v = ev[sec * n + i];
        if (std::isfinite(v)) t += v;
      }
      s.tower[i] = t;
      s.first[i] = std::isfinite(ev[i]) ? ev[i] : 0.0;
    }
    if (label_regions(g, s, c.cell_threshold_mev) == 0) continue;
    s.n_seeds = 0;
    for (int i = 0; i < n; ++i)
      if (s.region[i] >= 0 && s.tower[i] >= c.seed_threshold_mev && is_local_maximum(g, s.tower, i))
        s.seeds[s.n_seeds++] = i;
    int n_regions = 0;
    for (int i = 0; i < n; ++i) n_regions = std::max(n_regions, s.region[i] + 1);
    for (int r = 0; r < n_regions; ++r) cluster_region(g, c, s, r, static_cast<int64_t>(e), pileup, out);
  }
}

}  // namespace na64::calo
