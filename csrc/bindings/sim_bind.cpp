// Thin binding of csrc/sim: the simulator's fused waveform synthesis (numpy in, numpy out).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "bindings/bindings.hpp"
#include "common/error.hpp"
#include "sim/waveform_synth.hpp"

namespace py = pybind11;

namespace na64::py {
namespace {

template <typename T>
using carray = pybind11::array_t<T, pybind11::array::c_style | pybind11::array::forcecast>;

void expect_shape(const char* name, const pybind11::array& a, std::initializer_list<pybind11::ssize_t> shape) {
  bool ok = a.ndim() == static_cast<pybind11::ssize_t>(shape.size());
  std::size_t i = 0;
  for (auto d : shape) {
    if (!ok) break;
    ok = a.shape(i++) == d;
  }
  if (!ok) {
    std::string got = "(";
    for (pybind11::ssize_t j = 0; j < a.ndim(); ++j) got += concat(j ? ", " : "", a.shape(j));
    std::string want = "(";
    i = 0;
    for (auto d : shape) want += concat(i++ ? ", " : "", d);
    throw InputError(concat("synthesize: ", name, " has shape ", got, "), expected ", want, ")"));
  }
}

// The arrays stay alive in the calling binding's parameters, so the pointers stay valid.
sim::SynthInput synth_input(carray<float> pedestal, carray<float> noise_rms, std::uint64_t noise_seed,
                                            float noise_rho, carray<double> amplitude,
                                            carray<double> peak_ns, carray<float> templates,
                                            carray<double> template_t0, double template_step, double sample_ns,
                                            carray<std::int8_t> kind,
                                            carray<std::int64_t> first_particle,
                                            std::optional<carray<float>> common,
                                            std::optional<carray<std::int32_t>> group, float white_weight,
                                            float common_weight) {
  if (pedestal.ndim() != 2) throw InputError(concat("synthesize: pedestal must be (cells, samples), got ndim ", pedestal.ndim()));
  if (peak_ns.ndim() != 2) throw InputError(concat("synthesize: peak_ns must be (particles, kinds), got ndim ", peak_ns.ndim()));
  if (templates.ndim() != 2) throw InputError(concat("synthesize: templates must be (kinds, points), got ndim ", templates.ndim()));
  if (first_particle.ndim() != 1 || first_particle.shape(0) < 1)
    throw InputError("synthesize: first_particle must be a 1-D array of n_events + 1 offsets");
  sim::SynthInput in;
  in.n_cells = pedestal.shape(0);
  in.n_samples = pedestal.shape(1);
  in.n_events = first_particle.shape(0) - 1;
  in.n_particles = peak_ns.shape(0);
  in.n_kinds = peak_ns.shape(1);
  in.template_len = templates.shape(1);
  expect_shape("noise_rms", noise_rms, {in.n_cells});
  expect_shape("amplitude", amplitude, {in.n_particles, in.n_cells});
  expect_shape("templates", templates, {in.n_kinds, in.template_len});
  expect_shape("template_t0", template_t0, {in.n_kinds});
  expect_shape("kind", kind, {in.n_cells});
  expect_shape("first_particle", first_particle, {in.n_events + 1});
  in.pedestal = pedestal.data();
  in.noise_rms = noise_rms.data();
  in.noise_seed = noise_seed;
  in.noise_rho = noise_rho;
  in.amplitude = amplitude.data();
  in.peak_ns = peak_ns.data();
  in.templates = templates.data();
  in.template_t0 = template_t0.data();
  in.template_step = template_step;
  in.sample_ns = sample_ns;
  in.kind = kind.data();
  in.first_particle = first_particle.data();
  in.white_weight = white_weight;
  in.common_weight = common_weight;
  if (common.has_value() != group.has_value())
    throw InputError("synthesize: common and group must be given together");
  if (common) {
    if (common->ndim() != 3) throw InputError(concat("synthesize: common must be (events, groups, samples), got ndim ", common->ndim()));
    in.n_groups = common->shape(1);
    expect_shape("common", *common, {in.n_events, in.n_groups, in.n_samples});
    expect_shape("group", *group, {in.n_cells});
    in.common = common->data();
    in.group = group->data();
  }
  sim::check_synth_input(in);
  return in;
}

pybind11::array_t<std::uint16_t> synthesize(carray<float> pedestal, carray<float> noise_rms, std::uint64_t noise_seed,
                                            float noise_rho, carray<double> amplitude,
                                            carray<double> peak_ns, carray<float> templates,
                                            carray<double> template_t0, double template_step, double sample_ns,
                                            carray<std::int8_t> kind,
                                            carray<std::int64_t> first_particle,
                                            std::optional<carray<float>> common,
                                            std::optional<carray<std::int32_t>> group, float white_weight,
                                            float common_weight) {
  const sim::SynthInput in = synth_input(pedestal, noise_rms, noise_seed, noise_rho, amplitude, peak_ns, templates,
                                         template_t0, template_step, sample_ns, kind, first_particle, common, group,
                                         white_weight, common_weight);
  pybind11::array_t<std::uint16_t> out({in.n_events, in.n_cells, in.n_samples});
  std::uint16_t* o = out.mutable_data();
  {
    pybind11::gil_scoped_release release;
    sim::synthesize_waveforms(in, o);
  }
  return out;
}

// samples in out_row order (events, cells, samples), their per-row sums mod 2^16
// (events * cells,), and the cells with trigger_row >= 0 copied to (events, n_trigger_rows, samples)
pybind11::tuple synthesize_layout(carray<float> pedestal, carray<float> noise_rms, std::uint64_t noise_seed,
                                  float noise_rho, carray<double> amplitude, carray<double> peak_ns,
                                  carray<float> templates, carray<double> template_t0, double template_step,
                                  double sample_ns, carray<std::int8_t> kind, carray<std::int64_t> first_particle,
                                  std::optional<carray<float>> common, std::optional<carray<std::int32_t>> group,
                                  float white_weight, float common_weight, carray<std::int32_t> out_row,
                                  carray<std::int32_t> trigger_row, std::int64_t n_trigger_rows) {
  const sim::SynthInput in = synth_input(pedestal, noise_rms, noise_seed, noise_rho, amplitude, peak_ns, templates,
                                         template_t0, template_step, sample_ns, kind, first_particle, common, group,
                                         white_weight, common_weight);
  expect_shape("out_row", out_row, {in.n_cells});
  expect_shape("trigger_row", trigger_row, {in.n_cells});
  if (n_trigger_rows < 0) throw InputError(concat("synthesize: n_trigger_rows = ", n_trigger_rows, ", expected >= 0"));
  pybind11::array_t<std::uint16_t> out({in.n_events, in.n_cells, in.n_samples});
  pybind11::array_t<std::uint16_t> sums({in.n_events * in.n_cells});
  pybind11::array_t<std::uint16_t> trig({in.n_events, n_trigger_rows, in.n_samples});
  sim::SynthLayout layout;
  layout.out_row = out_row.data();
  layout.row_sum = sums.mutable_data();
  layout.second = trig.mutable_data();
  layout.second_row = trigger_row.data();
  layout.n_second_rows = n_trigger_rows;
  sim::check_synth_layout(in, layout);
  std::uint16_t* o = out.mutable_data();
  {
    pybind11::gil_scoped_release release;
    sim::synthesize_waveforms(in, o, layout);
  }
  return pybind11::make_tuple(out, sums, trig);
}

pybind11::array_t<float> noise_windows(std::uint64_t seed, std::int64_t n_windows, std::int64_t window, float rho) {
  if (n_windows < 0 || window <= 0)
    throw InputError(concat("noise_windows: expected n_windows >= 0 and window > 0, got ", n_windows, " and ", window));
  pybind11::array_t<float> out({n_windows, window});
  float* o = out.mutable_data();
  pybind11::gil_scoped_release release;
  sim::noise_windows(seed, n_windows, window, rho, o);
  return out;
}

}  // namespace

void bind_sim(pybind11::module_& m) {
  m.def("synthesize", &synthesize, pybind11::arg("pedestal"), pybind11::arg("noise_rms"), pybind11::arg("noise_seed"),
        pybind11::arg("noise_rho"), pybind11::arg("amplitude"), pybind11::arg("peak_ns"), pybind11::arg("templates"),
        pybind11::arg("template_t0"), pybind11::arg("template_step"), pybind11::arg("sample_ns"), pybind11::arg("kind"),
        pybind11::arg("first_particle"), pybind11::arg("common") = pybind11::none(),
        pybind11::arg("group") = pybind11::none(), pybind11::arg("white_weight") = 1.0f,
        pybind11::arg("common_weight") = 0.0f,
        "MSADC samples (events, cells, samples) uint16: pedestal + rms * noise + sum over the "
        "particles of each event of amplitude * template(k * sample_ns - peak), the template linearly "
        "interpolated on its uniform grid; rounded half up, clamped to 0..4095.");
  m.def("synthesize_layout", &synthesize_layout, pybind11::arg("pedestal"), pybind11::arg("noise_rms"),
        pybind11::arg("noise_seed"), pybind11::arg("noise_rho"), pybind11::arg("amplitude"), pybind11::arg("peak_ns"),
        pybind11::arg("templates"), pybind11::arg("template_t0"), pybind11::arg("template_step"),
        pybind11::arg("sample_ns"), pybind11::arg("kind"), pybind11::arg("first_particle"), pybind11::arg("common"),
        pybind11::arg("group"), pybind11::arg("white_weight"), pybind11::arg("common_weight"),
        pybind11::arg("out_row"), pybind11::arg("trigger_row"), pybind11::arg("n_trigger_rows"),
        "synthesize() with the caller's layouts made in the same pass: (samples with cell c at row "
        "out_row[c] of each event, uint16 sum of every such row mod 2**16 (events * cells,), windows of "
        "the cells with trigger_row[c] >= 0 at that row of (events, n_trigger_rows, samples)).");
  m.def("noise_windows", &noise_windows, pybind11::arg("seed"), pybind11::arg("n_windows"), pybind11::arg("window"),
        pybind11::arg("rho") = 0.0f,
        "The white noise synthesize() draws for seed, (n_windows, window) float32 in its order "
        "(event, cell, sample): unit normals, AR(1)-correlated inside a window when rho != 0.");
}

}  // namespace na64::py
