// Thin pybind11 layer over csrc/straw: arrays in, dicts of arrays out, GIL released.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <vector>

#include "bindings/bindings.hpp"
#include "bindings/reco_numpy.hpp"
#include "straw/rt.hpp"
#include "straw/straw_reco.hpp"

namespace pb = pybind11;

namespace na64::py {
namespace {

using straw::RtRelation;

pb::tuple rt_radius(const RtRelation& rt, const carray<double>& t) {
  const auto n = t.size();
  pb::array_t<double> r(n), err(n);
  pb::array_t<bool> ok(n);
  auto* pr = r.mutable_data();
  auto* pe = err.mutable_data();
  auto* po = ok.mutable_data();
  const double* pt = t.data();
  {
    pb::gil_scoped_release release;
    for (pb::ssize_t i = 0; i < n; ++i) {
      pr[i] = pe[i] = std::numeric_limits<double>::quiet_NaN();
      po[i] = rt.radius(pt[i], pr[i], pe[i]);
    }
  }
  return pb::make_tuple(r, err, ok);
}

pb::dict reconstruct(const carray<int64_t>& event, const carray<int16_t>& plane, const carray<int8_t>& layer,
                     const carray<int16_t>& tube, const carray<double>& time_ns, pb::ssize_t n_events,
                     const std::vector<straw::StrawPlane>& planes, const RtRelation& rt,
                     const straw::StrawConfig& config) {
  const auto n = event.ndim() == 1 ? event.shape(0) : -1;
  require_length(event, n, "reconstruct_straws: event");
  require_length(plane, n, "reconstruct_straws: plane");
  require_length(layer, n, "reconstruct_straws: layer");
  require_length(tube, n, "reconstruct_straws: tube");
  require_length(time_ns, n, "reconstruct_straws: time_ns");
  if (n_events < 0) throw InputError(concat("reconstruct_straws: n_events ", n_events, ", expected >= 0"));
  straw::StrawHits h{static_cast<std::size_t>(n), event.data(), plane.data(), layer.data(), tube.data(),
                     time_ns.data()};
  straw::StrawResult r;
  {
    pb::gil_scoped_release release;
    straw::reconstruct_straws(h, static_cast<std::size_t>(n_events), planes, rt, config, r);
  }
  pb::dict hits, clusters, points, events;
  hits["radius"] = to_numpy(std::move(r.radius));
  hits["radius_err"] = to_numpy(std::move(r.radius_err));
  hits["status"] = to_numpy(std::move(r.status));
  clusters["event"] = to_numpy(std::move(r.cl_event));
  clusters["plane"] = to_numpy(std::move(r.cl_plane));
  clusters["u"] = to_numpy(std::move(r.cl_u));
  clusters["u_alt"] = to_numpy(std::move(r.cl_u_alt));
  clusters["u_err"] = to_numpy(std::move(r.cl_u_err));
  clusters["z"] = to_numpy(std::move(r.cl_z));
  clusters["n_hits"] = to_numpy(std::move(r.cl_hits));
  clusters["ambiguous"] = to_numpy(std::move(r.cl_ambiguous));
  clusters["in_segment"] = to_numpy(std::move(r.cl_in_segment));
  points["event"] = to_numpy(std::move(r.pt_event));
  points["station"] = to_numpy(std::move(r.pt_station));
  points["x"] = to_numpy(std::move(r.pt_x));
  points["y"] = to_numpy(std::move(r.pt_y));
  points["z"] = to_numpy(std::move(r.pt_z));
  events["straw_hits"] = to_numpy(std::move(r.ev_hits));
  events["straw_dropped"] = to_numpy(std::move(r.ev_dropped));
  events["straw_bad"] = to_numpy(std::move(r.ev_bad));
  events["straw_clusters"] = to_numpy(std::move(r.ev_clusters));
  events["straw_max_plane_hits"] = to_numpy(std::move(r.ev_max_plane_hits));
  events["seg_ok"] = to_numpy(std::move(r.seg_ok));
  events["seg_x0"] = to_numpy(std::move(r.seg_x0));
  events["seg_y0"] = to_numpy(std::move(r.seg_y0));
  events["seg_tx"] = to_numpy(std::move(r.seg_tx));
  events["seg_ty"] = to_numpy(std::move(r.seg_ty));
  events["seg_chi2"] = to_numpy(std::move(r.seg_chi2));
  events["seg_ndf"] = to_numpy(std::move(r.seg_ndf));
  events["seg_planes"] = to_numpy(std::move(r.seg_planes));
  pb::dict d;
  d["hits"] = hits;
  d["clusters"] = clusters;
  d["points"] = points;
  d["events"] = events;
  return d;
}

}  // namespace

void bind_straw(pybind11::module_& m) {
  pb::class_<RtRelation>(m, "RtRelation", "Drift time (ns after t0) -> drift radius (mm) with its error.")
      .def_static("table", &RtRelation::table, pb::arg("t_ns"), pb::arg("r_mm"), pb::arg("err_mm"))
      .def_static("polynomial", &RtRelation::polynomial, pb::arg("coefficients"), pb::arg("t_min_ns"),
                  pb::arg("t_max_ns"), pb::arg("err_mm"))
      .def_property_readonly("t_min", &RtRelation::t_min)
      .def_property_readonly("t_max", &RtRelation::t_max)
      .def("radius", &rt_radius, pb::arg("t_ns"), "Arrays (r_mm, err_mm, inside_window); NaN outside.");

  pb::class_<straw::StrawPlane>(m, "StrawPlane", "One straw plane: two staggered layers of tubes.")
      .def(pb::init<>())
      .def_readwrite("station", &straw::StrawPlane::station)
      .def_readwrite("axis", &straw::StrawPlane::axis)
      .def_readwrite("z_mm", &straw::StrawPlane::z_mm)
      .def_readwrite("layer_dz_mm", &straw::StrawPlane::layer_dz_mm)
      .def_readwrite("pitch_mm", &straw::StrawPlane::pitch_mm)
      .def_readwrite("u_first_mm", &straw::StrawPlane::u_first_mm)
      .def_readwrite("layer_shift_mm", &straw::StrawPlane::layer_shift_mm)
      .def_readwrite("n_tubes", &straw::StrawPlane::n_tubes)
      .def_readwrite("t0_ns", &straw::StrawPlane::t0_ns);

  pb::class_<straw::StrawConfig>(m, "StrawConfig", "Parameters of the straw reconstruction.")
      .def(pb::init<>())
      .def_readwrite("tube_radius_mm", &straw::StrawConfig::tube_radius_mm)
      .def_readwrite("ambiguity_chi2", &straw::StrawConfig::ambiguity_chi2)
      .def_readwrite("max_cluster_hits", &straw::StrawConfig::max_cluster_hits)
      .def_readwrite("max_combinations", &straw::StrawConfig::max_combinations);

  m.def("reconstruct_straws", &reconstruct, pb::arg("event"), pb::arg("plane"), pb::arg("layer"), pb::arg("tube"),
        pb::arg("time_ns"), pb::arg("n_events"), pb::arg("planes"), pb::arg("rt"), pb::arg("config"),
        "Hits sorted by event -> dict with 'hits', 'clusters', 'points', 'events' tables (dicts of arrays).");
}

}  // namespace na64::py
