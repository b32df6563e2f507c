#include "calo/cells.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"

namespace na64::calo {
namespace {

constexpr std::size_t kMaxCounters = 64;  // beam counters combined into the master time

void validate(const PulseBatch& p, const int32_t* spill_row, const CellCalibration& c,
              const MasterTimeConfig& m) {
  if (p.n_events > 0 && (p.offsets == nullptr || spill_row == nullptr))
    throw InputError("calibrate_cells: offsets and spill rows are required");
  if (p.n_events > 0 && p.offsets[0] != 0)
    throw InputError(concat("calibrate_cells: offsets must start at 0, got ", p.offsets[0]));
  for (std::size_t e = 0; e < p.n_events; ++e) {
    if (p.offsets[e + 1] < p.offsets[e])
      throw InputError(concat("calibrate_cells: offsets decrease at event ", e, " (", p.offsets[e],
                              " -> ", p.offsets[e + 1], ")"));
    const int32_t row = spill_row[e];
    if (row < -1 || (row >= 0 && static_cast<std::size_t>(row) >= c.n_spill_rows))
      throw InputError(concat("calibrate_cells: event ", e, " has LED spill row ", row,
                              ", expected -1 or < ", c.n_spill_rows));
  }
  const int64_t last = p.n_events ? p.offsets[p.n_events] : 0;
  if (static_cast<std::size_t>(last) != p.n_pulses)
    throw InputError(concat("calibrate_cells: offsets end at ", last, " but there are ", p.n_pulses,
                            " pulses"));
  for (std::size_t i = 0; i < p.n_pulses; ++i)
    if (p.cell[i] < 0 || static_cast<std::size_t>(p.cell[i]) >= c.n_cells)
      throw InputError(concat("calibrate_cells: pulse ", i, " has cell ", p.cell[i],
                              ", expected 0..", c.n_cells - 1));
  if (m.counter_cells.size() != m.counter_offset_ns.size())
    throw InputError(concat("calibrate_cells: ", m.counter_cells.size(), " counter cells but ",
                            m.counter_offset_ns.size(), " counter offsets"));
  if (m.counter_cells.size() > kMaxCounters)
    throw InputError(concat("calibrate_cells: ", m.counter_cells.size(), " counter cells, at most ", kMaxCounters));
  for (int32_t cell : m.counter_cells)
    if (cell < 0 || static_cast<std::size_t>(cell) >= c.n_cells)
      throw InputError(concat("calibrate_cells: counter cell ", cell, " outside 0..", c.n_cells - 1));
  for (int32_t cell : m.refine_cells)
    if (cell < 0 || static_cast<std::size_t>(cell) >= c.n_cells)
      throw InputError(concat("calibrate_cells: refine cell ", cell, " outside 0..", c.n_cells - 1));
  if (!(m.refine_min_fraction >= 0.0 && m.refine_min_fraction <= 1.0))
    throw InputError(concat("calibrate_cells: refine_min_fraction ", m.refine_min_fraction, ", expected 0 to 1"));
  for (int32_t cell : m.refine_main_cells)
    if (cell < 0 || static_cast<std::size_t>(cell) >= c.n_cells)
      throw InputError(concat("calibrate_cells: refine main cell ", cell, " outside 0..", c.n_cells - 1));
  if (!(m.refine_local_ns >= 0.0))
    throw InputError(concat("calibrate_cells: refine_local_ns ", m.refine_local_ns, ", expected >= 0"));
  if (!m.refine_cells.empty() && !(m.refine_search_ns > 0.0 && m.refine_cluster_ns >= 0.0 && m.refine_min_mev >= 0.0 &&
                                   m.refine_window_ns > 0.0))
    throw InputError(concat("calibrate_cells: refine_search_ns ", m.refine_search_ns, ", refine_cluster_ns ",
                            m.refine_cluster_ns, ", refine_min_mev ", m.refine_min_mev, ", refine_window_ns ",
                            m.refine_window_ns, "; expected search > 0, cluster >= 0, min_mev >= 0, window > 0"));
}

// (pulse time - offset) of the fired counters, each the pulse closest to its expectation,
// combined by mean or median.
double counter_time(const PulseBatch& p, int64_t begin, int64_t end, const MasterTimeConfig& m, int32_t& used,
                    double& spread) {
  double times[kMaxCounters];
  used = 0;
  for (std::size_t k = 0; k < m.counter_cells.size(); ++k) {
    const double expected = m.nominal_ns + m.counter_offset_ns[k];
    double best = std::numeric_limits<double>::infinity();
    double best_time = 0.0;
    for (int64_t i = begin; i < end; ++i) {
      if (p.cell[i] != m.counter_cells[k] || !(p.amplitude[i] > 0.0)) continue;
      const double d = std::fabs(p.time_ns[i] - expected);
      if (d <= m.search_ns && d < best) {
        best = d;
        best_time = p.time_ns[i];
      }
    }
    if (std::isfinite(best)) times[used++] = best_time - m.counter_offset_ns[k];
  }
  spread = 0.0;
  if (used == 0) return m.nominal_ns;
  {
    double lo = times[0], hi = times[0];
    for (int32_t k = 1; k < used; ++k) {
      lo = std::min(lo, times[k]);
      hi = std::max(hi, times[k]);
    }
    spread = hi - lo;
  }
  if (m.median) {
    std::sort(times, times + used);
    return used % 2 ? times[used / 2] : 0.5 * (times[used / 2 - 1] + times[used / 2]);
  }
  double sum = 0.0;
  for (int32_t k = 0; k < used; ++k) sum += times[k];
  return sum / used;
}

// A pulse that may refine the master time: its time less the cell's time_mean, and its energy.
struct RefineCandidate {
  double time_ns;
  double energy;
  bool main;  // a cell of MasterTimeConfig::refine_main_cells
};

// The calorimeter refinement of MasterTimeConfig; returns false (t unchanged) without candidates.
// cands: scratch, reused from event to event.
bool refine_time(const PulseBatch& p, int64_t begin, int64_t end, const MasterTimeConfig& m,
                 const std::vector<char>& is_refine, const std::vector<char>& is_main, const CellCalibration& c,
                 const double* led_row, double spread, std::vector<RefineCandidate>& cands, double& t) {
  const bool nominal = m.refine_anchor == RefineAnchor::kNominal ||
                       (m.refine_anchor == RefineAnchor::kAuto && spread > m.refine_spread_ns);
  // Pulses of waveforms with clipped samples (refine_ok 0) take part only where no other can.
  for (int pass = 0; pass < 2; ++pass) {
    const bool with_clipped = pass == 1;
    if (with_clipped && p.refine_ok == nullptr) return false;
    cands.clear();
    for (int64_t i = begin; i < end; ++i) {
      const int32_t cell = p.cell[i];
      if (!is_refine[static_cast<std::size_t>(cell)] || (!with_clipped && p.refine_ok && p.refine_ok[i] == 0) ||
          !std::isfinite(p.time_ns[i]) || !std::isfinite(p.amplitude[i]))
        continue;
      double led = led_row ? led_row[cell] : std::numeric_limits<double>::quiet_NaN();
      if (!std::isfinite(led)) led = c.led_run[cell];
      const double energy = p.amplitude[i] * c.mev_per_adc[cell] * led;
      const double te = p.time_ns[i] - c.time_mean_ns[cell];
      if (energy >= m.refine_min_mev && std::fabs(te - t) <= m.refine_search_ns &&
          std::fabs(te - m.nominal_ns) <= m.refine_window_ns)
        cands.push_back({te, energy, is_main[static_cast<std::size_t>(cell)] != 0});
    }
    const std::size_t k = cands.size();
    if (k == 0) continue;
    // a candidate's shower: the candidates within refine_cluster_ns of it, energy summed
    auto shower_energy = [&](std::size_t i) {
      double e = 0.0;
      for (std::size_t j = 0; j < k; ++j)
        if (std::fabs(cands[j].time_ns - cands[i].time_ns) <= m.refine_cluster_ns) e += cands[j].energy;
      return e;
    };
    // no larger candidate within refine_local_ns: a shower's own largest pulse, not a
    // neighbour cell's or a split-off fragment timed a few ns beside it
    auto local_max = [&](std::size_t i) {
      for (std::size_t j = 0; j < k; ++j)
        if (std::fabs(cands[j].time_ns - cands[i].time_ns) <= m.refine_local_ns && cands[j].energy > cands[i].energy)
          return false;
      return true;
    };
    // the shower of candidate i reaches the main section
    auto reaches_main = [&](std::size_t i) {
      for (std::size_t j = 0; j < k; ++j)
        if (cands[j].main && std::fabs(cands[j].time_ns - cands[i].time_ns) <= m.refine_cluster_ns) return true;
      return false;
    };
    double min_shower = 0.0;
    if (m.refine_min_fraction > 0.0) {
      for (std::size_t i = 0; i < k; ++i) min_shower = std::max(min_shower, shower_energy(i));
      min_shower *= m.refine_min_fraction;
    }
    double best = std::numeric_limits<double>::infinity();
    double anchor = t;
    for (std::size_t i = 0; i < k; ++i) {
      if ((min_shower > 0.0 && shower_energy(i) < min_shower) || (m.refine_local_ns > 0.0 && !local_max(i)) ||
          (!m.refine_main_cells.empty() && !reaches_main(i)))
        continue;
      const double d = std::fabs(cands[i].time_ns - (nominal ? m.nominal_ns : t));
      if (d < best) {
        best = d;
        anchor = cands[i].time_ns;
      }
    }
    if (!std::isfinite(best)) continue;
    double sum_w = 0.0, sum_wt = 0.0;
    for (std::size_t j = 0; j < k; ++j)
      if (std::fabs(cands[j].time_ns - anchor) <= m.refine_cluster_ns) {
        sum_w += cands[j].energy;
        sum_wt += cands[j].energy * cands[j].time_ns;
      }
    t = sum_w > 0.0 ? sum_wt / sum_w : anchor;
    return true;
  }
  return false;
}

}  // namespace

void calibrate_cells(const PulseBatch& p, const int32_t* spill_row, const CellCalibration& c,
                     const MasterTimeConfig& m, double n_sigma, double near_sigma, double max_time_err_ns,
                     CellOutputs& out) {
  validate(p, spill_row, c, m);
  if (!(max_time_err_ns >= 0.0))
    throw InputError(concat("calibrate_cells: max_time_err_ns ", max_time_err_ns, ", expected >= 0"));
  if (!(n_sigma > 0.0) || !(near_sigma >= n_sigma))
    throw InputError(concat("calibrate_cells: n_sigma ", n_sigma, ", near_sigma ", near_sigma,
                            "; expected 0 < n_sigma <= near_sigma"));
  for (std::size_t k = 0; k < c.n_cells; ++k)
    if (!(c.time_sigma_ns[k] > 0.0) || !std::isfinite(c.mev_per_adc[k]) || !std::isfinite(c.led_run[k]))
      throw InputError(concat("calibrate_cells: cell ", k, " has mev_per_adc ", c.mev_per_adc[k], ", LED ",
                              c.led_run[k], ", time sigma ", c.time_sigma_ns[k],
                              " ns; expected finite values and sigma > 0"));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::size_t nc = c.n_cells;
  std::vector<char> is_refine(nc, 0);
  for (int32_t cell : m.refine_cells) is_refine[static_cast<std::size_t>(cell)] = 1;
  std::vector<char> is_main(nc, 0);
  for (int32_t cell : m.refine_main_cells) is_main[static_cast<std::size_t>(cell)] = 1;
  std::vector<double> best_amp(nc);
  std::vector<RefineCandidate> refine_scratch;
  for (std::size_t e = 0; e < p.n_events; ++e) {
    double* e_in = out.e_in + e * nc;
    double* e_out = out.e_out + e * nc;
    double* e_near = out.e_near + e * nc;
    double* t_cell = out.t_cell + e * nc;
    for (std::size_t k = 0; k < nc; ++k) {
      e_in[k] = 0.0;
      e_out[k] = 0.0;
      e_near[k] = 0.0;
      t_cell[k] = nan;
      best_amp[k] = 0.0;
    }
    const int64_t begin = p.offsets[e], end = p.offsets[e + 1];
    int32_t used = 0;
    double spread = 0.0;
    double t_master = counter_time(p, begin, end, m, used, spread);
    const double* led_row = spill_row[e] >= 0 ? c.led_spill + static_cast<std::size_t>(spill_row[e]) * nc
                                              : nullptr;
    const bool refined = used > 0 && !m.refine_cells.empty() &&
                         refine_time(p, begin, end, m, is_refine, is_main, c, led_row, spread, refine_scratch, t_master);
    out.master_ns[e] = t_master;
    out.n_counters[e] = used;
    if (out.refined) out.refined[e] = refined ? 1 : 0;
    for (int64_t i = begin; i < end; ++i) {
      const double amp = p.amplitude[i];
      const double t = p.time_ns[i];
      if (!std::isfinite(amp) || !std::isfinite(t)) continue;  // failed fits carry no energy
      const int32_t cell = p.cell[i];
      double led = led_row ? led_row[cell] : nan;
      if (!std::isfinite(led)) led = c.led_run[cell];
      const double energy = amp * c.mev_per_adc[cell] * led;
      const double sigma_cell = c.time_sigma_ns[cell];
      const double err =
          p.time_err && std::isfinite(p.time_err[i]) ? std::min(std::fabs(p.time_err[i]), max_time_err_ns) : 0.0;
      const double pull = std::fabs(t - t_master - c.time_mean_ns[cell]) / std::sqrt(sigma_cell * sigma_cell + err * err);
      if (pull <= n_sigma) {
        e_in[cell] += energy;
        if (amp > best_amp[cell]) {
          best_amp[cell] = amp;
          t_cell[cell] = t;
        }
      } else if (pull <= near_sigma) {
        e_near[cell] += energy;
      } else {
        e_out[cell] += energy;
      }
    }
  }
}

void cell_index(const int16_t* plane, const int16_t* x, const int16_t* y, std::size_t n,
                const std::vector<int64_t>& begin, const std::vector<int32_t>& nx,
                const std::vector<int32_t>& ny, int32_t* out) {
  if (begin.size() != nx.size() || nx.size() != ny.size())
    throw InputError(concat("cell_index: ", begin.size(), " plane offsets, ", nx.size(), " widths, ", ny.size(),
                            " heights; expected one of each per plane"));
  const int n_planes = static_cast<int>(begin.size());
  for (std::size_t i = 0; i < n; ++i) {
    const int p = plane[i];
    if (p < 0 || p >= n_planes || x[i] < 0 || y[i] < 0 || x[i] >= nx[p] || y[i] >= ny[p]) {
      out[i] = -1;
      continue;
    }
    out[i] = static_cast<int32_t>(begin[p] + static_cast<int64_t>(x[i]) * ny[p] + y[i]);
  }
}

}  // namespace na64::calo
