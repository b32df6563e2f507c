// Straw reconstruction of a batch: TDC times -> drift radii, per-plane clusters of the two
// staggered layers with left-right resolution, station points, and one straight-line
// segment per event with the left-right combination chosen by chi2 (ties, as with two
// stations, go to the smallest slope).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "straw/rt.hpp"

namespace na64::straw {

enum Axis : int32_t { kAxisX = 0, kAxisY = 1 };

// Tube centre of (layer, tube): u = u_first + tube * pitch + layer * layer_shift, at
// z + layer * layer_dz. u is x for X planes and y for Y planes.
struct StrawPlane {
  int32_t station = 0;
  int32_t axis = kAxisX;
  double z_mm = 0.0;
  double layer_dz_mm = 10.0;
  double pitch_mm = 6.0;
  double u_first_mm = 0.0;
  double layer_shift_mm = 3.0;
  int32_t n_tubes = 64;
  double t0_ns = 0.0;
};

struct StrawConfig {
  double tube_radius_mm = 3.0;  // drift radii are clipped to it
  // A cluster stays ambiguous when another left-right choice fits within this chi2.
  double ambiguity_chi2 = 4.0;
  int max_cluster_hits = 6;          // larger clusters keep their centre with a flat error (<= 6)
  int max_combinations = 4096;       // left-right x cluster choices tried per projection
};

struct StrawHits {  // flat, sorted by event
  std::size_t n = 0;
  const int64_t* event = nullptr;
  const int16_t* plane = nullptr;
  const int8_t* layer = nullptr;
  const int16_t* tube = nullptr;
  const double* time_ns = nullptr;
};

enum HitStatus : uint8_t { kHitUsed = 0, kHitOutsideWindow = 1, kHitBadAddress = 2, kHitDuplicate = 3 };

struct StrawResult {
  // per hit
  std::vector<double> radius, radius_err;
  std::vector<uint8_t> status;
  // per plane cluster
  std::vector<int64_t> cl_event;
  std::vector<int16_t> cl_plane;
  std::vector<double> cl_u, cl_u_alt, cl_u_err, cl_z;  // u_alt NaN unless ambiguous
  std::vector<int16_t> cl_hits;
  std::vector<uint8_t> cl_ambiguous;
  std::vector<uint8_t> cl_in_segment;  // 0 no, 1 with u, 2 with u_alt
  // per station point
  std::vector<int64_t> pt_event;
  std::vector<int16_t> pt_station;
  std::vector<double> pt_x, pt_y, pt_z;
  // per event
  std::vector<int32_t> ev_hits, ev_dropped, ev_bad, ev_clusters, ev_max_plane_hits;
  std::vector<uint8_t> seg_ok;
  std::vector<double> seg_x0, seg_y0, seg_tx, seg_ty, seg_chi2;  // line at z = 0
  std::vector<int32_t> seg_ndf, seg_planes;
};

void validate_planes(const std::vector<StrawPlane>& planes);

// Hits must be sorted by event with 0 <= event < n_events (InputError otherwise). Hits with
// unknown plane/layer/tube are counted as bad, never thrown on.
void reconstruct_straws(const StrawHits& hits, std::size_t n_events,
                        const std::vector<StrawPlane>& planes, const RtRelation& rt,
                        const StrawConfig& config, StrawResult& out);

}  // namespace na64::straw
