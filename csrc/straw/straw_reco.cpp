#include "straw/straw_reco.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "common/error.hpp"

namespace na64::straw {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Hit {
  int32_t plane;
  int32_t layer;
  int32_t tube;
  double u;  // tube centre
  double z;
  double time;
  double r;
  double err;
  std::size_t index;  // row in the batch
};

struct Candidate {
  double u, err, z;
  std::size_t cluster;  // row in StrawResult cluster columns
  uint8_t which;        // 1 = u, 2 = u_alt
  int16_t hits;
};

bool candidate_before(const Candidate& a, const Candidate& b) {
  if (a.hits != b.hits) return a.hits > b.hits;
  return a.which < b.which;
}

struct ClusterFit {
  double u, u_alt, err;
  bool ambiguous;
};

// Best left-right assignment of a group of adjacent hits: the signs that make the hit
// positions agree best; a runner-up within ambiguity_chi2 that lands elsewhere keeps the
// cluster ambiguous.
ClusterFit resolve_cluster(const Hit* h, int m, const StrawConfig& c) {
  if (m == 1) return {h[0].u + h[0].r, h[0].u - h[0].r, h[0].err, true};
  if (m > c.max_cluster_hits) {
    double lo = h[0].u, hi = h[0].u;
    for (int i = 1; i < m; ++i) lo = std::min(lo, h[i].u), hi = std::max(hi, h[i].u);
    return {0.5 * (lo + hi), kNaN, (hi - lo) / std::sqrt(12.0) + h[0].err, false};
  }
  double best = std::numeric_limits<double>::infinity(), second = best;
  double best_u = 0.0, second_u = kNaN, err = 0.0;
  double sw = 0.0;
  for (int i = 0; i < m; ++i) sw += 1.0 / (h[i].err * h[i].err);
  err = 1.0 / std::sqrt(sw);
  const unsigned n_comb = 1u << m;
  std::array<double, 64> chi2s{}, means{};
  for (unsigned s = 0; s < n_comb && s < 64; ++s) {
    double su = 0.0;
    for (int i = 0; i < m; ++i) {
      const double p = h[i].u + (((s >> i) & 1u) ? -h[i].r : h[i].r);
      su += p / (h[i].err * h[i].err);
    }
    const double mean = su / sw;
    double chi2 = 0.0;
    for (int i = 0; i < m; ++i) {
      const double p = h[i].u + (((s >> i) & 1u) ? -h[i].r : h[i].r);
      chi2 += (p - mean) * (p - mean) / (h[i].err * h[i].err);
    }
    chi2s[s] = chi2;
    means[s] = mean;
    if (chi2 < best) best = chi2, best_u = mean;
  }
  // runner-up among the solutions that land more than 3 sigma away from the best one
  for (unsigned s = 0; s < n_comb && s < 64; ++s)
    if (std::fabs(means[s] - best_u) > 3.0 * err && chi2s[s] < second) second = chi2s[s], second_u = means[s];
  const bool ambiguous = second - best < c.ambiguity_chi2;
  return {best_u, ambiguous ? second_u : kNaN, err, ambiguous};
}

struct LineFit {
  bool ok = false;
  double a = 0.0, b = 0.0, chi2 = 0.0;
};

LineFit fit_line(const Candidate* const* pick, int n) {
  double s = 0, sz = 0, szz = 0, su = 0, szu = 0;
  for (int i = 0; i < n; ++i) {
    const double w = 1.0 / (pick[i]->err * pick[i]->err), z = pick[i]->z, u = pick[i]->u;
    s += w, sz += w * z, szz += w * z * z, su += w * u, szu += w * z * u;
  }
  const double det = s * szz - sz * sz;
  LineFit f;
  if (n < 2 || !(det > 1e-12 * s * szz)) return f;
  f.a = (szz * su - sz * szu) / det;
  f.b = (s * szu - sz * su) / det;
  for (int i = 0; i < n; ++i) {
    const double d = pick[i]->u - f.a - f.b * pick[i]->z;
    f.chi2 += d * d / (pick[i]->err * pick[i]->err);
  }
  f.ok = true;
  return f;
}

// Chooses one candidate per plane minimising the line chi2 over all planes with candidates.
LineFit fit_projection(std::vector<std::vector<Candidate>>& per_plane, const StrawConfig& c,
                       std::vector<const Candidate*>& best_pick, int& n_planes) {
  // scratch kept across events: no heap traffic once the capacities have grown
  thread_local std::vector<std::vector<Candidate>*> used;
  thread_local std::vector<std::size_t> digit;
  thread_local std::vector<const Candidate*> pick;
  used.clear();
  for (auto& v : per_plane)
    if (!v.empty()) used.push_back(&v);
  n_planes = static_cast<int>(used.size());
  best_pick.clear();
  if (n_planes < 2) return {};
  auto product = [&] {
    double p = 1.0;
    for (auto* v : used) p *= static_cast<double>(v->size());
    return p;
  };
  while (product() > c.max_combinations) {
    auto* largest = *std::max_element(used.begin(), used.end(),
                                      [](auto* a, auto* b) { return a->size() < b->size(); });
    largest->pop_back();
  }
  digit.assign(used.size(), 0);
  pick.assign(used.size(), nullptr);
  LineFit best;
  best.chi2 = std::numeric_limits<double>::infinity();
  for (;;) {
    for (std::size_t i = 0; i < used.size(); ++i) pick[i] = &(*used[i])[digit[i]];
    const LineFit f = fit_line(pick.data(), n_planes);
    // Equal chi2 (e.g. two planes, no degree of freedom): prefer the smaller slope, as
    // beam particles are nearly parallel to z.
    const bool better = f.chi2 < best.chi2 - 1e-9 ||
                        (std::fabs(f.chi2 - best.chi2) <= 1e-9 && std::fabs(f.b) < std::fabs(best.b));
    if (f.ok && better) {
      best = f;
      best_pick = pick;
    }
    std::size_t k = 0;
    while (k < used.size() && ++digit[k] == used[k]->size()) digit[k++] = 0;
    if (k == used.size()) break;
  }
  if (!best.ok) best_pick.clear();
  return best;
}

}  // namespace

void validate_planes(const std::vector<StrawPlane>& planes) {
  for (std::size_t i = 0; i < planes.size(); ++i) {
    const StrawPlane& p = planes[i];
    if (p.axis != kAxisX && p.axis != kAxisY)
      throw InputError(concat("straw plane ", i, ": axis ", p.axis, ", expected 0 (X) or 1 (Y)"));
    if (!(p.pitch_mm > 0.0) || p.n_tubes < 1 || p.station < 0 || !std::isfinite(p.z_mm) ||
        !std::isfinite(p.u_first_mm) || !std::isfinite(p.layer_shift_mm) || !std::isfinite(p.layer_dz_mm) ||
        !std::isfinite(p.t0_ns))
      throw InputError(concat("straw plane ", i, ": pitch ", p.pitch_mm, " mm, ", p.n_tubes, " tubes, station ",
                              p.station, "; expected pitch > 0, tubes >= 1, station >= 0, finite positions"));
  }
}

void reconstruct_straws(const StrawHits& hits, std::size_t n_events, const std::vector<StrawPlane>& planes,
                        const RtRelation& rt, const StrawConfig& c, StrawResult& out) {
  validate_planes(planes);
  if (c.max_cluster_hits < 1 || c.max_cluster_hits > 6 || c.max_combinations < 1 || !(c.tube_radius_mm > 0.0))
    throw InputError(concat("straw config: max_cluster_hits ", c.max_cluster_hits, " (1..6), max_combinations ",
                            c.max_combinations, " (>= 1), tube radius ", c.tube_radius_mm, " mm (> 0)"));
  for (std::size_t i = 0; i < hits.n; ++i) {
    if (hits.event[i] < 0 || static_cast<std::size_t>(hits.event[i]) >= n_events)
      throw InputError(concat("straw hits: row ", i, " has event ", hits.event[i], ", expected 0..",
                              static_cast<int64_t>(n_events) - 1));
    if (i && hits.event[i] < hits.event[i - 1])
      throw InputError(concat("straw hits: not sorted by event at row ", i, " (", hits.event[i - 1], " then ",
                              hits.event[i], ")"));
  }
  int32_t n_stations = 0;
  for (const auto& p : planes) n_stations = std::max(n_stations, p.station + 1);

  out.radius.assign(hits.n, kNaN);
  out.radius_err.assign(hits.n, kNaN);
  out.status.assign(hits.n, kHitUsed);
  for (auto* v : {&out.ev_hits, &out.ev_dropped, &out.ev_bad, &out.ev_clusters, &out.ev_max_plane_hits,
                  &out.seg_ndf, &out.seg_planes})
    v->assign(n_events, 0);
  out.seg_ok.assign(n_events, 0);
  for (auto* v : {&out.seg_x0, &out.seg_y0, &out.seg_tx, &out.seg_ty, &out.seg_chi2}) v->assign(n_events, kNaN);

  std::vector<Hit> ev_hits;
  std::vector<int32_t> plane_hits(planes.size(), 0);
  std::vector<std::vector<Candidate>> cand[2] = {std::vector<std::vector<Candidate>>(planes.size()),
                                                 std::vector<std::vector<Candidate>>(planes.size())};
  std::vector<const Candidate*> pick;
  std::vector<std::size_t> station_x, station_y;
  std::size_t row = 0;
  for (std::size_t e = 0; e < n_events; ++e) {
    const std::size_t begin = row;
    while (row < hits.n && static_cast<std::size_t>(hits.event[row]) == e) ++row;
    ev_hits.clear();
    for (std::size_t i = begin; i < row; ++i) {
      const int pl = hits.plane[i], la = hits.layer[i], tu = hits.tube[i];
      if (pl < 0 || static_cast<std::size_t>(pl) >= planes.size() || (la != 0 && la != 1) || tu < 0 ||
          tu >= planes[pl].n_tubes || !std::isfinite(hits.time_ns[i])) {
        out.status[i] = kHitBadAddress;
        ++out.ev_bad[e];
        continue;
      }
      const StrawPlane& p = planes[pl];
      double r = 0.0, err = 0.0;
      if (!rt.radius(hits.time_ns[i] - p.t0_ns, r, err)) {
        out.status[i] = kHitOutsideWindow;
        ++out.ev_dropped[e];
        continue;
      }
      r = std::min(r, c.tube_radius_mm);
      out.radius[i] = r;
      out.radius_err[i] = err;
      ev_hits.push_back({pl, la, tu, p.u_first_mm + tu * p.pitch_mm + la * p.layer_shift_mm,
                         p.z_mm + la * p.layer_dz_mm, hits.time_ns[i], r, err, i});
    }
    std::sort(ev_hits.begin(), ev_hits.end(), [](const Hit& a, const Hit& b) {
      if (a.plane != b.plane) return a.plane < b.plane;
      if (a.u != b.u) return a.u < b.u;
      if (a.layer != b.layer) return a.layer < b.layer;
      return a.time < b.time;
    });
    // Later hits in the same tube are after-pulses or later particles: the earliest time
    // belongs to the closest approach.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < ev_hits.size(); ++i) {
      if (kept && ev_hits[kept - 1].plane == ev_hits[i].plane && ev_hits[kept - 1].layer == ev_hits[i].layer &&
          ev_hits[kept - 1].tube == ev_hits[i].tube) {
        out.status[ev_hits[i].index] = kHitDuplicate;
        out.radius[ev_hits[i].index] = kNaN;
        ++out.ev_dropped[e];
        continue;
      }
      ev_hits[kept++] = ev_hits[i];
    }
    ev_hits.resize(kept);
    out.ev_hits[e] = static_cast<int32_t>(kept);

    for (auto& v : cand[0]) v.clear();
    for (auto& v : cand[1]) v.clear();
    std::fill(plane_hits.begin(), plane_hits.end(), 0);
    const std::size_t first_cluster = out.cl_event.size();
    for (std::size_t i = 0; i < kept;) {
      const StrawPlane& p = planes[ev_hits[i].plane];
      const double gap = std::max(p.layer_shift_mm, p.pitch_mm - p.layer_shift_mm);
      const double adjacent = (gap > 0.0 ? gap : p.pitch_mm) * 1.001;
      std::size_t j = i + 1;
      while (j < kept && ev_hits[j].plane == ev_hits[i].plane && ev_hits[j].u - ev_hits[j - 1].u <= adjacent) ++j;
      const int m = static_cast<int>(j - i);
      plane_hits[ev_hits[i].plane] += m;
      const ClusterFit f = resolve_cluster(&ev_hits[i], m, c);
      double z = 0.0;
      for (std::size_t k = i; k < j; ++k) z += ev_hits[k].z;
      z /= m;
      const std::size_t id = out.cl_event.size();
      out.cl_event.push_back(static_cast<int64_t>(e));
      out.cl_plane.push_back(static_cast<int16_t>(ev_hits[i].plane));
      out.cl_u.push_back(f.u);
      out.cl_u_alt.push_back(f.u_alt);
      out.cl_u_err.push_back(f.err);
      out.cl_z.push_back(z);
      out.cl_hits.push_back(static_cast<int16_t>(std::min(m, 32767)));
      out.cl_ambiguous.push_back(f.ambiguous ? 1 : 0);
      out.cl_in_segment.push_back(0);
      auto& list = cand[p.axis][ev_hits[i].plane];
      list.push_back({f.u, f.err, z, id, 1, static_cast<int16_t>(std::min(m, 32767))});
      if (f.ambiguous) list.push_back({f.u_alt, f.err, z, id, 2, static_cast<int16_t>(std::min(m, 32767))});
      i = j;
    }
    const std::size_t end_cluster = out.cl_event.size();
    out.ev_clusters[e] = static_cast<int32_t>(end_cluster - first_cluster);
    out.ev_max_plane_hits[e] = plane_hits.empty() ? 0 : *std::max_element(plane_hits.begin(), plane_hits.end());

    // Station points: every X cluster with every Y cluster of the same station.
    for (int32_t st = 0; st < n_stations; ++st) {
      station_x.clear();
      station_y.clear();
      for (std::size_t k = first_cluster; k < end_cluster; ++k) {
        const StrawPlane& p = planes[out.cl_plane[k]];
        if (p.station != st) continue;
        (p.axis == kAxisX ? station_x : station_y).push_back(k);
      }
      for (std::size_t kx : station_x)
        for (std::size_t ky : station_y) {
          out.pt_event.push_back(static_cast<int64_t>(e));
          out.pt_station.push_back(static_cast<int16_t>(st));
          out.pt_x.push_back(out.cl_u[kx]);
          out.pt_y.push_back(out.cl_u[ky]);
          out.pt_z.push_back(0.5 * (out.cl_z[kx] + out.cl_z[ky]));
        }
    }

    // Candidates with more hits first, so trimming for max_combinations drops noise first.
    // (insertion sort: lists are short, and std::stable_sort would allocate per call)
    for (auto& axis : cand)
      for (auto& v : axis)
        for (std::size_t i = 1; i < v.size(); ++i)
          for (std::size_t j = i; j > 0 && candidate_before(v[j], v[j - 1]); --j) std::swap(v[j], v[j - 1]);
    int nx = 0, ny = 0;
    const LineFit fx = fit_projection(cand[kAxisX], c, pick, nx);
    if (fx.ok)
      for (const Candidate* q : pick) out.cl_in_segment[q->cluster] = q->which;
    const LineFit fy = fit_projection(cand[kAxisY], c, pick, ny);
    if (fy.ok)
      for (const Candidate* q : pick) out.cl_in_segment[q->cluster] = q->which;
    if (fx.ok) out.seg_x0[e] = fx.a, out.seg_tx[e] = fx.b;
    if (fy.ok) out.seg_y0[e] = fy.a, out.seg_ty[e] = fy.b;
    if (fx.ok && fy.ok) {
      out.seg_ok[e] = 1;
      out.seg_chi2[e] = fx.chi2 + fy.chi2;
      out.seg_ndf[e] = nx - 2 + ny - 2;
    }
    out.seg_planes[e] = (fx.ok ? nx : 0) + (fy.ok ? ny : 0);
  }
}

}  // namespace na64::straw
