// C++ tests of the straw core under ASan+UBSan: r(t) validation, known tracks, and random
// hit lists (bad planes, layers, tubes, NaN times) that must be counted, never crash.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "common/error.hpp"
#include "straw/rt.hpp"
#include "straw/straw_reco.hpp"
#include "tests/check.hpp"

using namespace na64::straw;

namespace {

RtRelation linear_rt() { return RtRelation::table({0.0, 60.0}, {0.0, 3.0}, {0.1, 0.1}); }

std::vector<StrawPlane> planes() {
  std::vector<StrawPlane> p;
  for (int st = 0; st < 3; ++st)
    for (int axis = 0; axis < 2; ++axis) {
      StrawPlane q;
      q.station = st;
      q.axis = axis;
      q.z_mm = -3000.0 + 1000.0 * st + 20.0 * axis;
      q.u_first_mm = -190.5;
      p.push_back(q);
    }
  return p;
}

void test_rt_validation() {
  NA64_CHECK(throws_input_error([] { RtRelation::table({0.0, 10.0, 5.0}, {0.0, 1.0, 2.0}, {0.1, 0.1, 0.1}); }));
  NA64_CHECK(throws_input_error([] { RtRelation::table({0.0, 10.0}, {1.0, 0.5}, {0.1, 0.1}); }));
  NA64_CHECK(throws_input_error([] { RtRelation::polynomial({0.0, 1.0, -0.1}, 0.0, 60.0, 0.1); }));
  const RtRelation rt = linear_rt();
  double r = -1, e = -1;
  NA64_CHECK(rt.radius(30.0, r, e) && std::fabs(r - 1.5) < 1e-12 && e == 0.1);
  NA64_CHECK(!rt.radius(std::numeric_limits<double>::quiet_NaN(), r, e));
}

void test_known_track() {
  // track at x = 1.0, y = -2.0 parallel to z: tubes and radii computed by hand
  const auto pl = planes();
  std::vector<int64_t> ev;
  std::vector<int16_t> plane, tube;
  std::vector<int8_t> layer;
  std::vector<double> time;
  for (int k = 0; k < 6; ++k)
    for (int la = 0; la < 2; ++la) {
      const double u = pl[k].axis == 0 ? 1.0 : -2.0;
      const double base = pl[k].u_first_mm + la * pl[k].layer_shift_mm;
      const int t = static_cast<int>(std::lround((u - base) / pl[k].pitch_mm));
      const double d = std::fabs(u - (base + t * pl[k].pitch_mm));
      ev.push_back(0);
      plane.push_back(static_cast<int16_t>(k));
      layer.push_back(static_cast<int8_t>(la));
      tube.push_back(static_cast<int16_t>(t));
      time.push_back(d / 3.0 * 60.0);
    }
  StrawHits h{ev.size(), ev.data(), plane.data(), layer.data(), tube.data(), time.data()};
  StrawResult r;
  reconstruct_straws(h, 1, pl, linear_rt(), StrawConfig{}, r);
  NA64_CHECK(r.seg_ok[0] == 1);
  NA64_CHECK(std::fabs(r.seg_x0[0] - 1.0) < 1e-9 && std::fabs(r.seg_y0[0] + 2.0) < 1e-9);
  NA64_CHECK(std::fabs(r.seg_tx[0]) < 1e-12 && r.seg_chi2[0] < 1e-12);
  NA64_CHECK(r.cl_event.size() == 6 && r.pt_event.size() == 3);
}

void test_random_hits_do_not_crash() {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> any(-5, 80);
  std::uniform_real_distribution<double> t(-20.0, 100.0);
  const auto pl = planes();
  for (int round = 0; round < 200; ++round) {
    const std::size_t n_events = 4, n = 60;
    std::vector<int64_t> ev(n);
    std::vector<int16_t> plane(n), tube(n);
    std::vector<int8_t> layer(n);
    std::vector<double> time(n);
    for (std::size_t i = 0; i < n; ++i) {
      ev[i] = static_cast<int64_t>(i * n_events / n);
      plane[i] = static_cast<int16_t>(any(rng) % 8);
      layer[i] = static_cast<int8_t>(any(rng) % 3);
      tube[i] = static_cast<int16_t>(any(rng));
      time[i] = (i % 17 == 0) ? std::numeric_limits<double>::quiet_NaN() : t(rng);
    }
    StrawHits h{n, ev.data(), plane.data(), layer.data(), tube.data(), time.data()};
    StrawResult r;
    StrawConfig cfg;
    cfg.max_combinations = 64;
    reconstruct_straws(h, n_events, pl, linear_rt(), cfg, r);
    int counted = 0;
    for (std::size_t e = 0; e < n_events; ++e) counted += r.ev_hits[e] + r.ev_dropped[e] + r.ev_bad[e];
    NA64_CHECK(counted == static_cast<int>(n));
  }
  std::vector<int64_t> ev{1, 0};
  std::vector<int16_t> plane{0, 0}, tube{0, 0};
  std::vector<int8_t> layer{0, 0};
  std::vector<double> time{1.0, 1.0};
  StrawHits h{2, ev.data(), plane.data(), layer.data(), tube.data(), time.data()};
  StrawResult r;
  NA64_CHECK(throws_input_error([&] { reconstruct_straws(h, 2, pl, linear_rt(), StrawConfig{}, r); }));
}

}  // namespace

int main() {
  test_rt_validation();
  test_known_track();
  test_random_hits_do_not_crash();
  return 0;
}
