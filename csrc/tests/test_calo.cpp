// C++ tests of the calorimeter core, also run under ASan+UBSan: known-answer checks and
// hostile inputs (random cells, NaN/inf energies, bad offsets) that must throw, not crash.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "calo/amplitude_bound.hpp"
#include "calo/cells.hpp"
#include "calo/channel_median.hpp"
#include "calo/cluster.hpp"
#include "calo/event_vars.hpp"
#include "calo/fixed_time_fit.hpp"
#include "calo/shower_profile.hpp"
#include "common/error.hpp"
#include "tests/check.hpp"

using namespace na64::calo;

namespace {

void test_fast_atan() {
  for (double x = -50.0; x <= 50.0; x += 0.01) NA64_CHECK(std::fabs(fast_atan(x) - std::atan(x)) < 1e-8);
  NA64_CHECK(std::fabs(fast_atan(1e300) - std::atan(1e300)) < 1e-8);
  NA64_CHECK(std::isnan(fast_atan(std::numeric_limits<double>::quiet_NaN())));
}

void test_profile_normalisation() {
  ShowerProfile p;
  NA64_CHECK(std::fabs(p.fraction(-1e8, 1e8, -1e8, 1e8) - 1.0) < 1e-6);
  double sum = 0.0;
  for (int i = -20; i <= 20; ++i)
    for (int j = -20; j <= 20; ++j) sum += p.cell_fraction(i * 38.2 - 7.0, j * 38.2 + 3.0, 38.2);
  NA64_CHECK(std::fabs(sum - p.fraction(-20.5 * 38.2 + 7, 20.5 * 38.2 + 7, -20.5 * 38.2 - 3, 20.5 * 38.2 - 3)) < 1e-9);
}

void test_calibration_split() {
  const std::size_t n_cells = 4;
  std::vector<int64_t> offsets{0, 3, 3};
  std::vector<int32_t> cell{0, 1, 1};
  std::vector<double> amp{10.0, 5.0, 7.0}, time{100.0, 101.0, 130.0};
  std::vector<int32_t> spill{0, -1};
  std::vector<double> mev{2.0, 3.0, 1.0, 1.0}, tmean(n_cells, 0.0), tsig(n_cells, 2.0), led_run(n_cells, 1.0);
  std::vector<double> led_spill{0.5, std::numeric_limits<double>::quiet_NaN(), 1.0, 1.0};
  PulseBatch p{2, offsets.data(), 3, cell.data(), amp.data(), time.data(), nullptr};
  CellCalibration c{n_cells, mev.data(), tmean.data(), tsig.data(), led_run.data(), led_spill.data(), 1};
  MasterTimeConfig m;
  m.nominal_ns = 100.0;
  m.search_ns = 10.0;
  std::vector<double> e_in(2 * n_cells), e_near(2 * n_cells), e_out(2 * n_cells), t(2 * n_cells), master(2);
  std::vector<int32_t> used(2);
  CellOutputs o{e_in.data(), e_near.data(), e_out.data(), t.data(), master.data(), used.data()};
  calibrate_cells(p, spill.data(), c, m, 3.0, 8.0, 3.0, o);
  NA64_CHECK(e_in[0] == 10.0 * 2.0 * 0.5);  // spill LED
  NA64_CHECK(e_in[1] == 5.0 * 3.0);         // NaN spill LED -> run average
  NA64_CHECK(e_out[1] == 7.0 * 3.0);        // 30 ns late = 15 sigma
  NA64_CHECK(e_in[n_cells] == 0.0 && std::isnan(t[n_cells]));

  std::vector<int64_t> bad{0, 5, 3};
  PulseBatch pb{2, bad.data(), 3, cell.data(), amp.data(), time.data(), nullptr};
  NA64_CHECK(throws_input_error([&] { calibrate_cells(pb, spill.data(), c, m, 3.0, 8.0, 3.0, o); }));
  std::vector<int32_t> bad_cell{0, 9, 1};
  PulseBatch pc{2, offsets.data(), 3, bad_cell.data(), amp.data(), time.data(), nullptr};
  NA64_CHECK(throws_input_error([&] { calibrate_cells(pc, spill.data(), c, m, 3.0, 8.0, 3.0, o); }));
}

// Counters 0..3 (one merged with pile-up, 8 ns late), ECAL cells 4..5 (time_mean 10 ns):
// the median ignores the odd counter, the closest ECAL shower above threshold refines it.
void test_master_time_median_and_refinement() {
  const std::size_t n_cells = 6;
  std::vector<int64_t> offsets{0, 7, 11, 18};
  std::vector<int32_t> cell{0, 1, 2, 3, 4, 4, 5, /**/ 0, 1, 2, 3, /**/ 0, 1, 2, 3, 4, 4, 5};
  std::vector<double> amp{1, 1, 1, 1, 100, 400, 5, /**/ 1, 1, 1, 1, /**/ 1, 1, 1, 1, 100, 400, 5};
  std::vector<double> time{101, 102, 100, 109, 110.5, 118, 111, /**/ 101, 102, 100, 109,
                           /**/ 101, 102, 100, 109, 128, 118, 111};
  std::vector<int32_t> spill(3, -1);
  std::vector<double> mev(n_cells, 20.0), tmean{0, 0, 0, 0, 10, 10}, tsig(n_cells, 1.0), led_run(n_cells, 1.0);
  PulseBatch p{3, offsets.data(), cell.size(), cell.data(), amp.data(), time.data(), nullptr};
  CellCalibration c{n_cells, mev.data(), tmean.data(), tsig.data(), led_run.data(), nullptr, 0};
  MasterTimeConfig m{{0, 1, 2, 3}, {0, 0, 0, 0}, 100.0, 20.0, true, {4, 5}, 1000.0, 5.0, 2.0, 8.0};
  std::vector<double> e_in(3 * n_cells), e_near(3 * n_cells), e_out(3 * n_cells), t(3 * n_cells), master(3);
  std::vector<int32_t> used(3);
  std::vector<uint8_t> refined(3);
  CellOutputs o{e_in.data(), e_near.data(), e_out.data(), t.data(), master.data(), used.data(), refined.data()};
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  // event 0: counter median 101.5; ECAL 2 GeV at 110.5 (-> 100.5) is the closest candidate,
  // 8 GeV at 118 (-> 108) is 6.5 ns away, 0.1 GeV at 111 is below threshold
  NA64_CHECK(std::fabs(master[0] - 100.5) < 1e-12 && refined[0] == 1 && used[0] == 4);
  NA64_CHECK(std::fabs(master[1] - 101.5) < 1e-12 && refined[1] == 0);  // no ECAL pulse
  // event 2: the 8 GeV shower (-> 108) lies 6.5 ns from the counters, beyond the search
  NA64_CHECK(std::fabs(master[2] - 101.5) < 1e-12 && refined[2] == 0);
  m.refine_search_ns = 20.0;  // now within reach, and 8 ns from nominal: inside the window
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[2] - 108.0) < 1e-12 && refined[2] == 1);
  m.refine_window_ns = 5.0;  // the trigger timing rules it out
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[2] - 101.5) < 1e-12 && refined[2] == 0);
  m.median = false;
  m.refine_cells.clear();
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[1] - 103.0) < 1e-12);  // the mean is dragged by the merged counter
  m.refine_cells = {4, 9};
  NA64_CHECK(throws_input_error([&] { calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o); }));
}

// The anchor is a shower, not a fragment, and a clipped waveform's pulse refines the master
// time only where no other candidate can: one event, counters at 100 ns (nominal 100), ECAL
// cells 4..6 (time_mean 10): a 60 GeV shower at +5 ns, a 1.2 GeV fragment at +1 ns beside it,
// and a clipped cell's 40 GeV pulse at -2 ns.
void test_master_time_anchor_rules() {
  const std::size_t n_cells = 7;
  std::vector<int64_t> offsets{0, 7};
  std::vector<int32_t> cell{0, 1, 2, 3, 4, 5, 6};
  std::vector<double> amp{1, 1, 1, 1, 3000, 60, 2000};
  std::vector<double> time{100, 100, 100, 100, 115, 111, 108};
  std::vector<uint8_t> ok{1, 1, 1, 1, 1, 1, 0};
  std::vector<int32_t> spill(1, -1);
  std::vector<double> mev(n_cells, 20.0), tmean{0, 0, 0, 0, 10, 10, 10}, tsig(n_cells, 1.0), led_run(n_cells, 1.0);
  PulseBatch p{1, offsets.data(), cell.size(), cell.data(), amp.data(), time.data(), nullptr, ok.data()};
  CellCalibration c{n_cells, mev.data(), tmean.data(), tsig.data(), led_run.data(), nullptr, 0};
  MasterTimeConfig m{{0, 1, 2, 3}, {0, 0, 0, 0}, 100.0, 20.0, true, {4, 5, 6}, 1000.0, 12.0, 2.0, 8.0,
                     RefineAnchor::kNominal, 0.5, 0.0, 0.0};
  std::vector<double> e_in(n_cells), e_near(n_cells), e_out(n_cells), t(n_cells), master(1);
  std::vector<int32_t> used(1);
  std::vector<uint8_t> refined(1);
  CellOutputs o{e_in.data(), e_near.data(), e_out.data(), t.data(), master.data(), used.data(), refined.data()};
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[0] - 101.0) < 1e-12);  // no test: the fragment nearest nominal
  m.refine_min_fraction = 0.03;  // 1.2 GeV < 3 % of 60 GeV
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[0] - 105.0) < 1e-12);
  m.refine_min_fraction = 0.0;
  m.refine_main_cells = {4};  // the fragment's cell 5 is no main-section cell, nor near one in time
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[0] - 105.0) < 1e-12);
  m.refine_main_cells.clear();
  m.refine_local_ns = 6.0;  // the 60 GeV shower lies 4 ns from the fragment
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[0] - 105.0) < 1e-12);
  p.refine_ok = nullptr;  // the clipped cell's pulse takes part: larger, and nearer nominal
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[0] - 98.0) < 1e-12);
  // every ECAL pulse from a clipped waveform: they refine the master time after all
  std::vector<uint8_t> none_ok{1, 1, 1, 1, 0, 0, 0};
  p.refine_ok = none_ok.data();
  calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o);
  NA64_CHECK(std::fabs(master[0] - 98.0) < 1e-12 && refined[0] == 1);
  m.refine_local_ns = -1.0;
  NA64_CHECK(throws_input_error([&] { calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o); }));
  m.refine_local_ns = 0.0;
  m.refine_min_fraction = 2.0;
  NA64_CHECK(throws_input_error([&] { calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o); }));
  m.refine_min_fraction = 0.0;
  m.refine_main_cells = {7};  // outside the layout
  NA64_CHECK(throws_input_error([&] { calibrate_cells(p, spill.data(), c, m, 3.0, 5.0, 3.0, o); }));
}

void test_cluster_random_inputs_do_not_crash() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), -1e6, 1e300, 0.0};
  ClusterConfig cfg;
  for (int round = 0; round < 200; ++round) {
    const int nx = 1 + static_cast<int>(u(rng) * 8), ny = 1 + static_cast<int>(u(rng) * 8);
    const int sections = 1 + static_cast<int>(u(rng) * 2);
    const std::size_t n_events = 5;
    std::vector<double> e(n_events * sections * nx * ny);
    for (auto& v : e) {
      const double r = u(rng);
      v = r < 0.05 ? specials[static_cast<int>(u(rng) * 6)] : (r < 0.5 ? 0.0 : u(rng) * 1e5);
    }
    ClusterTable t;
    cluster_grid(e.data(), n_events, sections, nx, ny, cfg, false, t);
    for (std::size_t k = 0; k < t.size(); ++k) NA64_CHECK(t.event[k] >= 0 && t.event[k] < 5);
  }
  ClusterTable t;
  std::vector<double> e(2 * 9 * 9);
  NA64_CHECK(throws_input_error([&] { cluster_grid(e.data(), 1, 2, 9, 9, cfg, false, t); }));
}

void test_two_seeds_share_energy() {
  ClusterConfig cfg;
  ShowerProfile& p = cfg.profile;
  std::vector<double> e(36, 0.0);
  const double xs[2] = {-57.3, 38.2}, es[2] = {60000.0, 30000.0};
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j)
        e[i * 6 + j] += es[s] * p.cell_fraction((i - 2.5) * 38.2 - xs[s], (j - 2.5) * 38.2 + 0.0, 38.2);
  ClusterTable t;
  cluster_grid(e.data(), 1, 1, 6, 6, cfg, false, t);
  NA64_CHECK(t.size() == 2);
  double total = 0.0;
  for (double v : e) total += v > cfg.cell_threshold_mev ? v : 0.0;
  NA64_CHECK(std::fabs(t.energy[0] + t.energy[1] - total) < 1e-6 * total);
  NA64_CHECK(std::fabs(t.x[0] - xs[0]) < 3.0 || std::fabs(t.x[1] - xs[0]) < 3.0);
}

void test_event_variables_layout_errors() {
  CaloLayout l;
  l.n_cells = 10;
  NA64_CHECK(throws_input_error([&] { validate_layout(l); }));
  NA64_CHECK(veto_module_energy(2.0, 4.5, 0.3) == 3.0);
  NA64_CHECK(veto_module_energy(1.0, 10.0, 0.3) == 10.0);
}

// A short pulse template and n identical windows of one pulse of `amp` ADC peaking at
// 150 ns on a pedestal of 100: the clean input the hostile cases below are built from.
const na64::waveform::PulseTemplate& test_template() {
  static const na64::waveform::PulseTemplate tpl({-25, -12.5, 0, 12.5, 25, 50, 100, 200, 400},
                                                 {0, 0.2, 1.0, 0.8, 0.6, 0.35, 0.1, 0.01, 0});
  return tpl;
}

std::vector<double> pulse_windows(std::size_t n, int width, double amp) {
  std::vector<double> samples(n * static_cast<std::size_t>(width));
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < width; ++k) samples[i * width + k] = 100.0 + amp * test_template().value(k * 12.5 - 150.0);
  return samples;
}

void test_amplitude_bound_hostile_inputs() {
  // A pulse of 500 ADC peaking at 150 ns on a pedestal of 100, then garbage windows.
  const na64::waveform::SampledShape shape(test_template(), 12.5, 0.125);
  const int width = 32;
  const std::size_t n = 6;
  std::vector<double> samples = pulse_windows(n, width, 500.0);
  samples[1 * width + 12] = 4095.0;  // clipped inside the window
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  std::vector<int64_t> ns{32, 32, -5, 1000, 32, 32};
  std::vector<double> lo{140, 140, 140, 140, nan, -1e300};
  std::vector<double> hi{160, 160, 160, 160, 160, 1e300};
  std::vector<double> floor(n, 0.9), ped{100, 100, 100, nan, 100, inf};
  BoundWindows w{n, width, samples.data(), ns.data(), lo.data(), hi.data(), floor.data(), ped.data()};
  std::vector<double> out(n, -1.0);
  amplitude_upper_bound(w, BoundSettings{}, &shape, out.data());
  NA64_CHECK(out[0] >= 500.0 && out[0] < 560.0);  // the template bound is tight for a clean pulse
  NA64_CHECK(std::isinf(out[1]));
  NA64_CHECK(out[2] == 0.0);  // nothing recorded
  NA64_CHECK(out[3] >= 500.0 && std::isfinite(out[3]));  // recorded count clamped, NaN pedestal ignored
  NA64_CHECK(out[4] == 0.0);  // NaN window
  NA64_CHECK(out[5] >= 500.0);  // an absurd window keeps the peak-sample bound
  amplitude_upper_bound(w, BoundSettings{}, nullptr, out.data());
  NA64_CHECK(out[0] >= 500.0 / 0.9);
}

void test_fixed_time_fit_hostile_inputs() {
  const na64::waveform::SampledShape shape(test_template(), 12.5, 0.125);
  const int width = 32;
  const std::size_t n = 5;
  std::vector<double> samples = pulse_windows(n, width, 300.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> ns{32, 32, -3, 2, 1 << 30};
  std::vector<double> tc{150.0, nan, 150.0, 150.0, 1e300};
  FixedTimeWindows w{n, width, samples.data(), ns.data(), tc.data()};
  std::vector<double> out(n);
  FixedTimeSettings s;
  fixed_time_amplitude(w, s, shape, out.data());
  NA64_CHECK(std::fabs(out[0] - 300.0) < 1e-3);  // a noiseless pulse on a flat baseline is exact
  NA64_CHECK(std::isnan(out[1]) && std::isnan(out[2]) && std::isnan(out[3]) && std::isnan(out[4]));
  s.neighbour_ns = 1e12;  // absurd ranges are capped, not looped over for ever
  s.neighbour_step_ns = 1e6;
  fixed_time_amplitude(w, s, shape, out.data());
  NA64_CHECK(std::isfinite(out[0]));
}

}  // namespace

// The channel pedestal kernel against a sort per channel, 12-bit and wider values, and hostile
// keys: the median of each queried key, inf below min_waveforms, InputError below -1.
void test_lowest_median_by_key() {
  std::mt19937 rng(17);
  for (int wide = 0; wide < 2; ++wide) {
    const std::int64_t n = 5000;
    std::vector<std::int32_t> key(n), lowest(n);
    std::vector<std::uint16_t> recorded(n);
    for (std::int64_t i = 0; i < n; ++i) {
      key[i] = static_cast<std::int32_t>(rng() % 40) - 1;
      lowest[i] = static_cast<std::int32_t>(rng() % 400) + (wide && rng() % 7 == 0 ? 9000 : 0);
      recorded[i] = static_cast<std::uint16_t>(rng() % 10 == 0 ? 0 : 32);
    }
    std::vector<std::int32_t> query = {-1, 0, 5, 38, 5, 50};
    std::vector<double> out(query.size());
    na64::calo::lowest_median_by_key(key.data(), lowest.data(), recorded.data(), n, query.data(),
                                     static_cast<std::int64_t>(query.size()), 5, out.data());
    for (std::size_t q = 0; q < query.size(); ++q) {
      std::vector<std::int32_t> v;
      for (std::int64_t i = 0; i < n; ++i)
        if (key[i] == query[q] && recorded[i] > 0) v.push_back(lowest[i]);
      if (v.size() < 5) {
        NA64_CHECK(std::isinf(out[q]));
        continue;
      }
      std::sort(v.begin(), v.end());
      NA64_CHECK(out[q] == v[(v.size() - 1) / 2]);
    }
  }
  std::vector<std::int32_t> bad_key = {0, -3}, low = {1, 2}, query = {0};
  std::vector<std::int64_t> rec = {32, 32};
  double out = 0.0;
  NA64_CHECK(throws_input_error(
      [&] { na64::calo::lowest_median_by_key(bad_key.data(), low.data(), rec.data(), 2, query.data(), 1, 1, &out); }));
  std::vector<std::int32_t> bad_query = {-2};
  NA64_CHECK(throws_input_error(
      [&] { na64::calo::lowest_median_by_key(low.data(), low.data(), rec.data(), 2, bad_query.data(), 1, 1, &out); }));
}

int main() {
  test_lowest_median_by_key();
  test_fixed_time_fit_hostile_inputs();
  test_amplitude_bound_hostile_inputs();
  test_fast_atan();
  test_profile_normalisation();
  test_calibration_split();
  test_master_time_median_and_refinement();
  test_master_time_anchor_rules();
  test_cluster_random_inputs_do_not_crash();
  test_two_seeds_share_energy();
  test_event_variables_layout_errors();
  return 0;
}
