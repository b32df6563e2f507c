// Thin pybind11 layer over csrc/calo: arrays in, dicts of arrays out, the GIL released
// around every batch loop.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "bindings/bindings.hpp"
#include "bindings/reco_numpy.hpp"
#include "calo/amplitude_bound.hpp"
#include "calo/cells.hpp"
#include "calo/channel_median.hpp"
#include "calo/cluster.hpp"
#include "calo/event_vars.hpp"
#include "calo/fixed_time_fit.hpp"
#include "calo/shower_profile.hpp"

namespace pb = pybind11;

namespace na64::py {
namespace {

using calo::ShowerProfile;

ShowerProfile make_profile(const std::vector<double>& weights, const std::vector<double>& widths) {
  if (weights.size() != widths.size() || weights.empty() || weights.size() > ShowerProfile::kMaxComponents)
    throw InputError(concat("shower profile: ", weights.size(), " weights and ", widths.size(),
                            " widths, expected the same number, 1..", ShowerProfile::kMaxComponents));
  ShowerProfile p;
  p.n_components = weights.size();
  for (std::size_t i = 0; i < weights.size(); ++i) p.weight[i] = weights[i], p.width_mm[i] = widths[i];
  calo::validate_profile(p);
  return p;
}

pb::tuple calibrate_cells(const carray<int64_t>& offsets, const carray<int32_t>& cell, const carray<double>& amplitude,
                          const carray<double>& time_ns, const std::optional<carray<double>>& time_err,
                          const carray<int32_t>& spill_row,
                          const carray<double>& mev_per_adc, const carray<double>& time_mean_ns,
                          const carray<double>& time_sigma_ns, const carray<double>& led_run,
                          const carray<double>& led_spill, const std::vector<int32_t>& counter_cells,
                          const std::vector<double>& counter_offset_ns, double nominal_ns, double search_ns,
                          double n_sigma, double near_sigma, double max_time_err_ns, bool median,
                          const std::vector<int32_t>& refine_cells, double refine_min_mev, double refine_search_ns,
                          double refine_cluster_ns, double refine_window_ns, const std::string& refine_anchor,
                          double refine_spread_ns, double refine_min_fraction, double refine_local_ns,
                          const std::vector<int32_t>& refine_main_cells, const std::optional<carray<uint8_t>>& refine_ok) {
  if (offsets.ndim() != 1 || offsets.shape(0) < 1)
    throw InputError("calibrate_cells: offsets must be a 1-d array of n_events + 1 values");
  const auto n_events = offsets.shape(0) - 1;
  const auto n_pulses = cell.ndim() == 1 ? cell.shape(0) : -1;
  require_length(cell, n_pulses, "calibrate_cells: cell");
  require_length(amplitude, n_pulses, "calibrate_cells: amplitude");
  require_length(time_ns, n_pulses, "calibrate_cells: time_ns");
  if (time_err) require_length(*time_err, n_pulses, "calibrate_cells: time_err");
  if (refine_ok) require_length(*refine_ok, n_pulses, "calibrate_cells: refine_ok");
  require_length(spill_row, n_events, "calibrate_cells: spill_row");
  const auto n_cells = mev_per_adc.ndim() == 1 ? mev_per_adc.shape(0) : -1;
  require_length(mev_per_adc, n_cells, "calibrate_cells: mev_per_adc");
  require_length(time_mean_ns, n_cells, "calibrate_cells: time_mean_ns");
  require_length(time_sigma_ns, n_cells, "calibrate_cells: time_sigma_ns");
  require_length(led_run, n_cells, "calibrate_cells: led_run");
  if (led_spill.ndim() != 2 || led_spill.shape(1) != n_cells)
    throw InputError(concat("calibrate_cells: led_spill must be (n_spills, ", n_cells, "), got ndim ",
                            led_spill.ndim()));
  if (!(search_ns > 0.0)) throw InputError(concat("calibrate_cells: search_ns ", search_ns, ", expected > 0"));
  calo::RefineAnchor anchor = calo::RefineAnchor::kCounters;
  if (refine_anchor == "nominal")
    anchor = calo::RefineAnchor::kNominal;
  else if (refine_anchor == "auto")
    anchor = calo::RefineAnchor::kAuto;
  else if (refine_anchor != "counters")
    throw InputError(concat("calibrate_cells: refine_anchor '", refine_anchor,
                            "', expected 'counters', 'nominal' or 'auto'"));
  if (!(refine_spread_ns >= 0.0))
    throw InputError(concat("calibrate_cells: refine_spread_ns ", refine_spread_ns, ", expected >= 0"));

  calo::PulseBatch p{static_cast<std::size_t>(n_events), offsets.data(), static_cast<std::size_t>(n_pulses),
                     cell.data(), amplitude.data(), time_ns.data(), time_err ? time_err->data() : nullptr,
                     refine_ok ? refine_ok->data() : nullptr};
  calo::CellCalibration c{static_cast<std::size_t>(n_cells), mev_per_adc.data(), time_mean_ns.data(),
                          time_sigma_ns.data(), led_run.data(), led_spill.data(),
                          static_cast<std::size_t>(led_spill.shape(0))};
  calo::MasterTimeConfig m{counter_cells, counter_offset_ns, nominal_ns, search_ns, median,
                           refine_cells, refine_min_mev, refine_search_ns, refine_cluster_ns, refine_window_ns,
                           anchor, refine_spread_ns, refine_min_fraction, refine_local_ns, refine_main_cells};
  pb::array_t<double> e_in({n_events, n_cells}), e_near({n_events, n_cells}), e_out({n_events, n_cells}),
      t_cell({n_events, n_cells});
  pb::array_t<double> master(n_events);
  pb::array_t<int32_t> n_counters(n_events);
  pb::array_t<uint8_t> refined(n_events);
  calo::CellOutputs o{e_in.mutable_data(), e_near.mutable_data(), e_out.mutable_data(), t_cell.mutable_data(), master.mutable_data(),
                      n_counters.mutable_data(), refined.mutable_data()};
  {
    pb::gil_scoped_release release;
    calo::calibrate_cells(p, spill_row.data(), c, m, n_sigma, near_sigma, max_time_err_ns, o);
  }
  return pb::make_tuple(e_in, e_near, e_out, t_cell, master, n_counters, refined.attr("astype")("bool"));
}

pb::array_t<double> amplitude_upper_bound(const carray<double>& samples, const carray<int64_t>& nsamples,
                                          const carray<double>& t_lo_ns, const carray<double>& t_hi_ns,
                                          const carray<double>& peak_floor, const std::optional<carray<double>>& pedestal,
                                          const waveform::PulseTemplate* tpl, double sampling_ns, double noise_adc,
                                          double saturation_adc, double step_ns) {
  if (samples.ndim() != 2) throw InputError(concat("amplitude_upper_bound: samples must be (n, W), got ndim ", samples.ndim()));
  const auto n = samples.shape(0);
  require_length(nsamples, n, "amplitude_upper_bound: nsamples");
  require_length(t_lo_ns, n, "amplitude_upper_bound: t_lo_ns");
  require_length(t_hi_ns, n, "amplitude_upper_bound: t_hi_ns");
  require_length(peak_floor, n, "amplitude_upper_bound: peak_floor");
  if (pedestal) require_length(*pedestal, n, "amplitude_upper_bound: pedestal");
  if (samples.shape(1) > 256) throw InputError(concat("amplitude_upper_bound: at most 256 samples per row, got ", samples.shape(1)));
  if (!(sampling_ns > 0.0) || !(step_ns > 0.0) || !std::isfinite(sampling_ns) || !std::isfinite(step_ns))
    throw InputError(concat("amplitude_upper_bound: sampling_ns and step_ns must be positive, got ", sampling_ns, " and ", step_ns));
  std::optional<waveform::SampledShape> shape;
  if (tpl != nullptr) shape.emplace(*tpl, sampling_ns, 0.125);
  calo::BoundWindows w{static_cast<std::size_t>(n), static_cast<int>(samples.shape(1)), samples.data(), nsamples.data(),
                       t_lo_ns.data(), t_hi_ns.data(), peak_floor.data(), pedestal ? pedestal->data() : nullptr};
  calo::BoundSettings settings{sampling_ns, noise_adc, saturation_adc, step_ns};
  pb::array_t<double> out(n);
  {
    pb::gil_scoped_release release;
    calo::amplitude_upper_bound(w, settings, shape ? &*shape : nullptr, out.mutable_data());
  }
  return out;
}

pb::array_t<double> lowest_median_by_key(const carray<int32_t>& key, const carray<int32_t>& lowest, const pb::array& recorded,
                                         const carray<int32_t>& query, int64_t min_waveforms) {
  const auto n = key.size();
  if (key.ndim() != 1 || query.ndim() != 1)
    throw InputError(concat("lowest_median_by_key: key and query must be 1-d, got ndim ", key.ndim(), " and ", query.ndim()));
  require_length(lowest, n, "lowest_median_by_key: lowest");
  if (recorded.ndim() != 1 || recorded.shape(0) != n)
    throw InputError(concat("lowest_median_by_key: recorded must hold one count per key (", n, ")"));
  pb::array_t<double> out(query.size());
  // the decoder's uint16 counts are read in place, others converted to int64
  if (recorded.dtype().is(pb::dtype::of<uint16_t>()) && (recorded.flags() & pb::array::c_style)) {
    const auto* counts = static_cast<const uint16_t*>(recorded.data());
    pb::gil_scoped_release release;
    calo::lowest_median_by_key(key.data(), lowest.data(), counts, n, query.data(), query.size(), min_waveforms,
                               out.mutable_data());
  } else {
    const auto counts = carray<int64_t>::ensure(recorded);
    if (!counts) throw InputError("lowest_median_by_key: recorded must be integers");
    pb::gil_scoped_release release;
    calo::lowest_median_by_key(key.data(), lowest.data(), counts.data(), n, query.data(), query.size(), min_waveforms,
                               out.mutable_data());
  }
  return out;
}

pb::array_t<double> fixed_time_amplitude(const carray<double>& samples, const carray<int64_t>& nsamples,
                                         const carray<double>& t_peak_ns, const waveform::PulseTemplate& tpl,
                                         double sampling_ns, double before, double after, double saturation_adc,
                                         double neighbour_ns, double neighbour_min_sep_ns, double neighbour_step_ns,
                                         double neighbour_dchi2, double noise_adc) {
  if (samples.ndim() != 2) throw InputError(concat("fixed_time_amplitude: samples must be (n, W), got ndim ", samples.ndim()));
  const auto n = samples.shape(0);
  require_length(nsamples, n, "fixed_time_amplitude: nsamples");
  require_length(t_peak_ns, n, "fixed_time_amplitude: t_peak_ns");
  if (samples.shape(1) > 256) throw InputError(concat("fixed_time_amplitude: at most 256 samples per row, got ", samples.shape(1)));
  if (!(sampling_ns > 0.0) || !std::isfinite(sampling_ns))
    throw InputError(concat("fixed_time_amplitude: sampling_ns must be positive, got ", sampling_ns));
  if (neighbour_ns > 0.0 && !(neighbour_step_ns > 0.0))
    throw InputError(concat("fixed_time_amplitude: neighbour_step_ns must be positive, got ", neighbour_step_ns));
  const waveform::SampledShape shape(tpl, sampling_ns, 0.125);
  calo::FixedTimeWindows w{static_cast<std::size_t>(n), static_cast<int>(samples.shape(1)), samples.data(),
                           nsamples.data(), t_peak_ns.data()};
  calo::FixedTimeSettings settings{sampling_ns, before, after, saturation_adc, neighbour_ns, neighbour_min_sep_ns,
                                   neighbour_step_ns, neighbour_dchi2, noise_adc};
  pb::array_t<double> out(n);
  {
    pb::gil_scoped_release release;
    calo::fixed_time_amplitude(w, settings, shape, out.mutable_data());
  }
  return out;
}

pb::dict cluster_grid(const carray<double>& energies, const calo::ClusterConfig& config, bool pileup) {
  if (energies.ndim() != 4)
    throw InputError(concat("cluster_grid: energies must be (n_events, sections, nx, ny), got ndim ",
                            energies.ndim()));
  calo::ClusterTable t;
  {
    pb::gil_scoped_release release;
    t.reserve(static_cast<std::size_t>(energies.shape(0)));
    calo::cluster_grid(energies.data(), static_cast<std::size_t>(energies.shape(0)),
                       static_cast<int>(energies.shape(1)), static_cast<int>(energies.shape(2)),
                       static_cast<int>(energies.shape(3)), config, pileup, t);
  }
  pb::dict d;
  d["event"] = to_numpy(std::move(t.event));
  d["energy"] = to_numpy(std::move(t.energy));
  d["e_first_section"] = to_numpy(std::move(t.e_first_section));
  d["x"] = to_numpy(std::move(t.x));
  d["y"] = to_numpy(std::move(t.y));
  d["chi2"] = to_numpy(std::move(t.chi2));
  d["ndf"] = to_numpy(std::move(t.ndf));
  d["n_cells"] = to_numpy(std::move(t.n_cells));
  d["seed_x"] = to_numpy(std::move(t.seed_x));
  d["seed_y"] = to_numpy(std::move(t.seed_y));
  d["iterations"] = to_numpy(std::move(t.iterations));
  d["pileup"] = to_numpy(std::move(t.pileup));
  return d;
}

pb::dict event_variables(const carray<double>& e_in, const carray<double>& e_near, const carray<double>& e_out,
                         const calo::CaloLayout& layout, double veto_ratio) {
  for (const auto* a : {&e_in, &e_near, &e_out})
    if (a->ndim() != 2 || a->shape(0) != e_in.shape(0) || a->shape(1) != layout.n_cells)
      throw InputError(concat("event_variables: e_in, e_near and e_out must all be (n_events, ", layout.n_cells,
                              ")"));
  calo::validate_layout(layout);
  const auto n = e_in.shape(0);
  auto col = [&](const char* name, pb::ssize_t width, pb::dict& d) {
    pb::array_t<double> a = width ? pb::array_t<double>({n, width}) : pb::array_t<double>(n);
    d[name] = a;
    return a.mutable_data();
  };
  pb::dict d;
  pb::array_t<int16_t> max_x(n), max_y(n);
  d["max_x"] = max_x;
  d["max_y"] = max_y;
  calo::EventVariables v;
  v.e_ecal = col("e_ecal", 0, d);
  v.e_prs = col("e_prs", 0, d);
  v.e_ecal_3x3 = col("e_ecal_3x3", 0, d);
  v.e_max_cell = col("e_max_cell", 0, d);
  v.max_x = max_x.mutable_data();
  v.max_y = max_y.mutable_data();
  v.cog_x = col("cog_x", 0, d);
  v.cog_y = col("cog_y", 0, d);
  v.e_hcal = col("e_hcal", 0, d);
  v.hcal_module = col("hcal_module", layout.hcal_modules, d);
  v.hcal_r = col("hcal_r", 0, d);
  v.veto_module = col("veto_module", layout.veto_modules, d);
  v.e_veto = col("e_veto", 0, d);
  v.srd_module = col("srd_module", layout.srd_modules, d);
  v.e_srd = col("e_srd", 0, d);
  v.e_bad_ecal = col("e_bad_ecal", 0, d);
  v.e_bad_hcal = col("e_bad_hcal", 0, d);
  v.e_pileup_ecal = col("e_pileup_ecal", 0, d);
  v.e_pileup_hcal = col("e_pileup_hcal", 0, d);
  {
    pb::gil_scoped_release release;
    calo::event_variables(e_in.data(), e_near.data(), e_out.data(), static_cast<std::size_t>(n), layout, veto_ratio, v);
  }
  return d;
}

pb::array_t<double> cell_fractions(const ShowerProfile& profile, const carray<double>& dx, const carray<double>& dy,
                                   double pitch) {
  require_length(dy, dx.ndim() == 1 ? dx.shape(0) : -1, "cell_fractions: dy");
  pb::array_t<double> out(dx.shape(0));
  auto* o = out.mutable_data();
  for (pb::ssize_t i = 0; i < dx.shape(0); ++i) o[i] = profile.cell_fraction(dx.data()[i], dy.data()[i], pitch);
  return out;
}

pb::array_t<int32_t> cell_index(const carray<int16_t>& plane, const carray<int16_t>& x, const carray<int16_t>& y,
                                const std::vector<int64_t>& begin, const std::vector<int32_t>& nx,
                                const std::vector<int32_t>& ny) {
  const auto n = plane.ndim() == 1 ? plane.shape(0) : -1;
  require_length(plane, n, "cell_index: plane");
  require_length(x, n, "cell_index: x");
  require_length(y, n, "cell_index: y");
  pb::array_t<int32_t> out(n);
  auto* o = out.mutable_data();
  {
    pb::gil_scoped_release release;
    calo::cell_index(plane.data(), x.data(), y.data(), static_cast<std::size_t>(n), begin, nx, ny, o);
  }
  return out;
}

}  // namespace

void bind_calo(pybind11::module_& m) {
  pb::class_<ShowerProfile>(m, "ShowerProfile",
                            "Lateral shower profile: sum of components b/(b^2+r^2)^(3/2), integrated over cells.")
      .def(pb::init(&make_profile), pb::arg("weights"), pb::arg("widths_mm"))
      .def_property_readonly("weights", [](const ShowerProfile& p) {
        return std::vector<double>(p.weight.begin(), p.weight.begin() + p.n_components);
      })
      .def_property_readonly("widths_mm", [](const ShowerProfile& p) {
        return std::vector<double>(p.width_mm.begin(), p.width_mm.begin() + p.n_components);
      })
      .def("fraction", &ShowerProfile::fraction, pb::arg("x1"), pb::arg("x2"), pb::arg("y1"), pb::arg("y2"))
      .def("cell_fractions", &cell_fractions, pb::arg("dx"), pb::arg("dy"), pb::arg("pitch"));

  pb::class_<calo::ClusterConfig>(m, "ClusterConfig", "Parameters of the ECAL clustering (MeV, mm).")
      .def(pb::init<>())
      .def_readwrite("pitch_mm", &calo::ClusterConfig::pitch_mm)
      .def_readwrite("cell_threshold_mev", &calo::ClusterConfig::cell_threshold_mev)
      .def_readwrite("seed_threshold_mev", &calo::ClusterConfig::seed_threshold_mev)
      .def_readwrite("log_weight_w0", &calo::ClusterConfig::log_weight_w0)
      .def_readwrite("move_tolerance_mm", &calo::ClusterConfig::move_tolerance_mm)
      .def_readwrite("max_iterations", &calo::ClusterConfig::max_iterations)
      .def_readwrite("profile", &calo::ClusterConfig::profile)
      .def_readwrite("chi2_noise_mev", &calo::ClusterConfig::chi2_noise_mev)
      .def_readwrite("chi2_stochastic_mev", &calo::ClusterConfig::chi2_stochastic_mev)
      .def_readwrite("chi2_fraction", &calo::ClusterConfig::chi2_fraction)
      .def("validate", &calo::validate_cluster_config);

  pb::class_<calo::CaloLayout>(m, "CaloLayout", "Positions of each detector in the per-event cell vector.")
      .def(pb::init<>())
      .def_readwrite("n_cells", &calo::CaloLayout::n_cells)
      .def_readwrite("ecal_begin", &calo::CaloLayout::ecal_begin)
      .def_readwrite("ecal_sections", &calo::CaloLayout::ecal_sections)
      .def_readwrite("ecal_nx", &calo::CaloLayout::ecal_nx)
      .def_readwrite("ecal_ny", &calo::CaloLayout::ecal_ny)
      .def_readwrite("hcal_begin", &calo::CaloLayout::hcal_begin)
      .def_readwrite("hcal_modules", &calo::CaloLayout::hcal_modules)
      .def_readwrite("hcal_nx", &calo::CaloLayout::hcal_nx)
      .def_readwrite("hcal_ny", &calo::CaloLayout::hcal_ny)
      .def_readwrite("veto_begin", &calo::CaloLayout::veto_begin)
      .def_readwrite("veto_modules", &calo::CaloLayout::veto_modules)
      .def_readwrite("srd_begin", &calo::CaloLayout::srd_begin)
      .def_readwrite("srd_modules", &calo::CaloLayout::srd_modules)
      .def_readwrite("ecal_pitch_mm", &calo::CaloLayout::ecal_pitch_mm)
      .def("validate", &calo::validate_layout);

  m.def("calibrate_cells", &calibrate_cells, pb::arg("offsets"), pb::arg("cell"), pb::arg("amplitude"),
        pb::arg("time_ns"), pb::arg("time_err"), pb::arg("spill_row"), pb::arg("mev_per_adc"), pb::arg("time_mean_ns"),
        pb::arg("time_sigma_ns"), pb::arg("led_run"), pb::arg("led_spill"), pb::arg("counter_cells"),
        pb::arg("counter_offset_ns"), pb::arg("nominal_ns"), pb::arg("search_ns"), pb::arg("n_sigma"),
        pb::arg("near_sigma"), pb::arg("max_time_err_ns") = 3.0, pb::arg("median") = false,
        pb::arg("refine_cells") = std::vector<int32_t>{}, pb::arg("refine_min_mev") = 1000.0,
        pb::arg("refine_search_ns") = 5.0, pb::arg("refine_cluster_ns") = 2.0, pb::arg("refine_window_ns") = 1e9,
        pb::arg("refine_anchor") = "counters", pb::arg("refine_spread_ns") = 0.5,
        pb::arg("refine_min_fraction") = 0.0, pb::arg("refine_local_ns") = 0.0,
        pb::arg("refine_main_cells") = std::vector<int32_t>{}, pb::arg("refine_ok") = pb::none(),
        "Pulses grouped by event (CSR offsets) -> (e_in, e_near, e_out, t_cell, master_ns, n_counters, "
        "master_refined); MeV, ns.");
  m.def("amplitude_upper_bound", &amplitude_upper_bound, pb::arg("samples"), pb::arg("nsamples"), pb::arg("t_lo_ns"),
        pb::arg("t_hi_ns"), pb::arg("peak_floor"), pb::arg("pedestal"), pb::arg("template"), pb::arg("sampling_ns"),
        pb::arg("noise_adc"), pb::arg("saturation_adc"), pb::arg("step_ns"),
        "Upper bound (ADC) on the amplitude of a pulse peaking in [t_lo_ns, t_hi_ns] of each row of samples.");
  m.def("lowest_median_by_key", &lowest_median_by_key, pb::arg("key"), pb::arg("lowest"), pb::arg("recorded"),
        pb::arg("query"), pb::arg("min_waveforms"),
        "Per query key: the lower median of ``lowest`` over the digits of that key (key -1 included; digits "
        "with recorded <= 0 left out), inf where fewer than min_waveforms.");
  m.def("fixed_time_amplitude", &fixed_time_amplitude, pb::arg("samples"), pb::arg("nsamples"), pb::arg("t_peak_ns"),
        pb::arg("template"), pb::arg("sampling_ns"), pb::arg("before"), pb::arg("after"), pb::arg("saturation_adc"),
        pb::arg("neighbour_ns"), pb::arg("neighbour_min_sep_ns"), pb::arg("neighbour_step_ns"), pb::arg("neighbour_dchi2"),
        pb::arg("noise_adc"), "In-time amplitude (ADC) at a known peak time, local linear baseline, optional neighbour pulse.");
  m.def("cluster_grid", &cluster_grid, pb::arg("energies"), pb::arg("config"), pb::arg("pileup") = false,
        "Clusters of (n_events, sections, nx, ny) cell energies in MeV; dict of per-cluster arrays.");
  m.def("event_variables", &event_variables, pb::arg("e_in"), pb::arg("e_near"), pb::arg("e_out"), pb::arg("layout"),
        pb::arg("veto_ratio") = 0.3, "Event-level calorimeter variables (MeV, mm) as a dict of arrays.");
  m.def("cell_index", &cell_index, pb::arg("plane"), pb::arg("x"), pb::arg("y"), pb::arg("plane_begin"),
        pb::arg("plane_nx"), pb::arg("plane_ny"), "Global cell index per (plane, x, y) row, -1 if unmapped.");
  m.def("veto_module_energy", &calo::veto_module_energy, pb::arg("a"), pb::arg("b"), pb::arg("veto_ratio") = 0.3);
}

}  // namespace na64::py
