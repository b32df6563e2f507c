// Python bindings of the waveform core: PulseTemplate and the batch WaveformFitter.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <string>

#include "bindings/bindings.hpp"
#include "bindings/block_arrays.hpp"
#include "common/error.hpp"
#include "waveform/pulse_template.hpp"
#include "waveform/waveform_fitter.hpp"

namespace pb = pybind11;
using na64::concat;
using na64::InputError;
using namespace na64::waveform;
using na64::py::BlockColumns;
using na64::py::own_block;
using na64::py::view;

namespace {

template <typename T>
pb::array_t<T> empty1(int64_t n) {
  return pb::array_t<T>(static_cast<pb::ssize_t>(n));
}

std::vector<double> to_vector(const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& a,
                              const char* what) {
  if (a.ndim() != 1) throw InputError(concat(what, " must be one-dimensional, got ", a.ndim(), " dimensions"));
  return std::vector<double>(a.data(), a.data() + a.size());
}

pb::array_t<double> evaluate_many(const PulseTemplate& t, const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& x,
                                  bool derivative) {
  pb::array_t<double> out(std::vector<pb::ssize_t>(x.shape(), x.shape() + x.ndim()));
  const double* in = x.data();
  double* o = out.mutable_data();
  for (pb::ssize_t i = 0; i < x.size(); ++i) o[i] = derivative ? t.derivative(in[i]) : t.value(in[i]);
  return out;
}

PedestalMode parse_pedestal(const std::string& s) {
  if (s == "fit") return PedestalMode::kFit;
  if (s == "leading") return PedestalMode::kLeading;
  if (s == "fixed") return PedestalMode::kFixed;
  throw InputError(concat("pedestal must be 'fit', 'leading' or 'fixed', got '", s, "'"));
}

// samples of shape (n, W) for a fitter of window W; `what` prefixes the message.
void check_window_shape(const WaveformFitter& f, const pb::array& samples, const char* what) {
  const int w = f.config().nsamples;
  if (samples.ndim() != 2 || samples.shape(1) != w)
    throw InputError(concat(what, "samples must have shape (n, ", w, "), got ndim ", samples.ndim(), " and ",
                            samples.ndim() >= 2 ? samples.shape(1) : -1, " columns"));
}

// The optional per-row recorded sample counts (None: every sample recorded).
pb::array_t<int32_t, pb::array::c_style | pb::array::forcecast> recorded_counts(const pb::object& obj, int64_t n,
                                                                                const char* what) {
  pb::array_t<int32_t, pb::array::c_style | pb::array::forcecast> recorded;
  if (!obj.is_none()) {
    recorded = pb::array_t<int32_t, pb::array::c_style | pb::array::forcecast>::ensure(obj);
    if (!recorded || recorded.ndim() != 1 || recorded.shape(0) != n)
      throw InputError(concat(what, "nsamples must be a 1-d integer array of length ", n));
  }
  return recorded;
}

using IndexArray = pb::array_t<int64_t, pb::array::c_style | pb::array::forcecast>;
using ValueArray = pb::array_t<double, pb::array::c_style | pb::array::forcecast>;

// The arrays behind a TimeHints, checked (every index the fit follows inside its array,
// finite times and shifts in time order within each group).
struct HintArrays {
  ValueArray times, shift_ns;
  IndexArray offsets, group;
  TimeHints view() const { return TimeHints{times.data(), offsets.data(), group.data(), shift_ns.data()}; }
};

HintArrays check_hints(const pb::object& times_obj, const pb::object& offsets_obj, const pb::object& group_obj,
                       const pb::object& shift_obj, int64_t n) {
  HintArrays h;
  h.times = ValueArray::ensure(times_obj);
  h.offsets = IndexArray::ensure(offsets_obj);
  h.group = IndexArray::ensure(group_obj);
  h.shift_ns = ValueArray::ensure(shift_obj);
  if (!h.times || h.times.ndim() != 1) throw InputError("hint_times must be a 1-d array of times (ns)");
  if (!h.offsets || h.offsets.ndim() != 1 || h.offsets.shape(0) < 1)
    throw InputError("hint_offsets must be a 1-d integer array of at least one entry (groups + 1)");
  if (!h.group || h.group.ndim() != 1 || h.group.shape(0) != n)
    throw InputError(concat("hint_group must be a 1-d integer array with one entry per fitted waveform (", n, ")"));
  if (!h.shift_ns || h.shift_ns.ndim() != 1 || h.shift_ns.shape(0) != n)
    throw InputError(concat("hint_shift_ns must be a 1-d array with one entry per fitted waveform (", n, ")"));
  const int64_t ngroups = h.offsets.shape(0) - 1, ntimes = h.times.shape(0);
  const int64_t* off = h.offsets.data();
  const double* t = h.times.data();
  if (off[0] != 0 || off[ngroups] != ntimes)
    throw InputError(concat("hint_offsets must run from 0 to len(hint_times) = ", ntimes, ", got ", off[0], " to ",
                            off[ngroups]));
  for (int64_t g = 0; g < ngroups; ++g) {
    if (off[g + 1] < off[g]) throw InputError(concat("hint_offsets decrease at group ", g, " (", off[g], " then ", off[g + 1], ")"));
    for (int64_t j = off[g]; j < off[g + 1]; ++j) {
      if (!std::isfinite(t[j])) throw InputError(concat("hint_times[", j, "] is not finite: ", t[j]));
      if (j > off[g] && t[j] < t[j - 1])
        throw InputError(concat("hint_times of group ", g, " are not in time order at entry ", j, " (", t[j - 1], " then ", t[j], ")"));
    }
  }
  const int64_t* grp = h.group.data();
  const double* sh = h.shift_ns.data();
  for (int64_t i = 0; i < n; ++i) {
    if (grp[i] < -1 || grp[i] >= ngroups)
      throw InputError(concat("hint_group[", i, "] = ", grp[i], " is not a group (-1 for none, 0 to ", ngroups - 1, ")"));
    if (!std::isfinite(sh[i])) throw InputError(concat("hint_shift_ns[", i, "] is not finite: ", sh[i]));
  }
  return h;
}

template <typename Sample>
pb::dict run_fit(const WaveformFitter& f, const pb::array& samples_any, const pb::object& recorded_obj,
                 const pb::object& pedestal_obj, const pb::object& rows_obj, const pb::object& hint_times,
                 const pb::object& hint_offsets, const pb::object& hint_group, const pb::object& hint_shift) {
  auto samples = pb::array_t<Sample, pb::array::c_style | pb::array::forcecast>::ensure(samples_any);
  if (!samples) throw InputError("samples could not be converted to a numeric array");
  check_window_shape(f, samples, "");
  // rows: the table rows to fit (waveform i = samples[rows[i]]), read in place
  IndexArray rows;
  if (!rows_obj.is_none()) {
    rows = IndexArray::ensure(rows_obj);
    if (!rows || rows.ndim() != 1) throw InputError("rows must be a 1-d integer array");
    const int64_t* r = rows.data();
    const int64_t table_rows = samples.shape(0);
    for (int64_t i = 0; i < rows.shape(0); ++i)
      if (r[i] < 0 || r[i] >= table_rows)
        throw InputError(concat("rows[", i, "] = ", r[i], " is outside the ", table_rows, " rows of samples"));
  }
  const int64_t n = rows_obj.is_none() ? samples.shape(0) : rows.shape(0);
  const auto recorded = recorded_counts(recorded_obj, n, "");
  pb::array_t<double, pb::array::c_style | pb::array::forcecast> pedestal;
  if (!pedestal_obj.is_none()) {
    pedestal = pb::array_t<double, pb::array::c_style | pb::array::forcecast>::ensure(pedestal_obj);
    if (!pedestal || pedestal.ndim() != 2 || pedestal.shape(0) != n || pedestal.shape(1) != 2)
      throw InputError(concat("pedestal values must have shape (", n, ", 2) (even, odd)"));
    const double* p = pedestal.data();
    for (int64_t i = 0; i < 2 * n; ++i)
      if (!std::isfinite(p[i]))
        throw InputError(concat("pedestal value of waveform ", i / 2, " is not finite: ", p[i]));
  }
  // The per-window columns share one block (written window by window, in huge pages when
  // large), and the pulse columns are the fit's own block: no copies of either.
  BlockColumns wave_block(n, {sizeof(double), sizeof(double), sizeof(double), sizeof(double), sizeof(double),
                              sizeof(double), sizeof(double), sizeof(double), sizeof(int32_t), sizeof(int32_t),
                              sizeof(uint32_t), sizeof(double)});
  WaveOutputs out{wave_block.column<double>(0), wave_block.column<double>(1), wave_block.column<double>(2),
                  wave_block.column<double>(3), wave_block.column<double>(4), wave_block.column<double>(5),
                  wave_block.column<double>(6), wave_block.column<double>(7), wave_block.column<int32_t>(8),
                  wave_block.column<int32_t>(9), wave_block.column<uint32_t>(10), wave_block.column<double>(11)};
  const int given = !hint_times.is_none() + !hint_offsets.is_none() + !hint_group.is_none() + !hint_shift.is_none();
  if (given != 0 && given != 4)
    throw InputError("hints need all of hint_times, hint_offsets, hint_group and hint_shift_ns");
  HintArrays hints;
  TimeHints hint_view;
  if (given == 4) {
    hints = check_hints(hint_times, hint_offsets, hint_group, hint_shift, n);
    hint_view = hints.view();
  }
  PulseColumns found;
  {
    pb::gil_scoped_release release;
    f.fit(samples.data(), n, recorded_obj.is_none() ? nullptr : recorded.data(),
          pedestal_obj.is_none() ? nullptr : pedestal.data(), out, found, rows_obj.is_none() ? nullptr : rows.data(),
          given == 4 ? &hint_view : nullptr);
  }
  const auto m = static_cast<int64_t>(found.size());
  const int64_t* p_wave = found.wave();
  const double *p_amp = found.amplitude(), *p_time = found.time_ns(), *p_amp_err = found.amplitude_err(),
               *p_time_err = found.time_err();
  const bool* p_in_time = found.in_time();
  const pb::capsule pulse_owner = own_block(found.release_storage());
  const pb::capsule wave_owner = own_block(wave_block.release());
  pb::dict waves;
  waves["amplitude"] = view(out.amplitude, n, wave_owner);
  waves["time_ns"] = view(out.time_ns, n, wave_owner);
  waves["pedestal"] = view(out.pedestal, n, wave_owner);
  waves["chi2"] = view(out.chi2, n, wave_owner);
  waves["npulses"] = view(out.npulses, n, wave_owner);
  waves["flags"] = view(out.flags, n, wave_owner);
  waves["amplitude_err"] = view(out.amplitude_err, n, wave_owner);
  waves["time_err"] = view(out.time_err, n, wave_owner);
  waves["ndf"] = view(out.ndf, n, wave_owner);
  waves["pedestal_even"] = view(out.pedestal_even, n, wave_owner);
  waves["pedestal_odd"] = view(out.pedestal_odd, n, wave_owner);
  waves["pileup_amplitude"] = view(out.pileup_amplitude, n, wave_owner);
  pb::dict pulses;
  pulses["wave"] = view(p_wave, m, pulse_owner);
  pulses["amplitude"] = view(p_amp, m, pulse_owner);
  pulses["time_ns"] = view(p_time, m, pulse_owner);
  pulses["amplitude_err"] = view(p_amp_err, m, pulse_owner);
  pulses["time_err"] = view(p_time_err, m, pulse_owner);
  pulses["in_time"] = view(p_in_time, m, pulse_owner);
  pb::dict result;
  result["waves"] = waves;
  result["pulses"] = pulses;
  return result;
}

pb::dict run_fit_seeded(const WaveformFitter& f, const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& samples,
                        const pb::object& recorded_obj,
                        const pb::array_t<int64_t, pb::array::c_style | pb::array::forcecast>& seed_offsets,
                        const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& seed_times,
                        const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& in_time_ns,
                        double in_time_tolerance_ns, bool fixed_times, const pb::object& weights_obj,
                        double seed_merge_ns) {
  check_window_shape(f, samples, "fit_seeded: ");
  const int64_t n = samples.shape(0);
  const auto recorded = recorded_counts(recorded_obj, n, "fit_seeded: ");
  if (seed_offsets.ndim() != 1 || seed_offsets.shape(0) != n + 1)
    throw InputError(concat("fit_seeded: seed_offsets must have n + 1 = ", n + 1, " entries, got ", seed_offsets.size()));
  if (in_time_ns.ndim() != 1 || in_time_ns.shape(0) != n)
    throw InputError(concat("fit_seeded: in_time_ns must have one value per waveform (", n, "), got ", in_time_ns.size()));
  if (seed_times.ndim() != 1) throw InputError("fit_seeded: seed_times must be 1-d");
  const int64_t* off = seed_offsets.data();
  if (off[0] != 0 || off[n] != seed_times.shape(0))
    throw InputError(concat("fit_seeded: seed_offsets must run from 0 to len(seed_times) = ", seed_times.shape(0),
                            ", got ", off[0], " to ", off[n]));
  for (int64_t i = 0; i < n; ++i)
    if (off[i + 1] < off[i])
      throw InputError(concat("fit_seeded: seed_offsets decrease at waveform ", i, " (", off[i], " then ", off[i + 1], ")"));
  pb::array_t<double, pb::array::c_style | pb::array::forcecast> weights;
  if (!weights_obj.is_none()) {
    weights = pb::array_t<double, pb::array::c_style | pb::array::forcecast>::ensure(weights_obj);
    if (!weights || weights.ndim() != 1 || weights.shape(0) != seed_times.shape(0))
      throw InputError(concat("fit_seeded: seed_weights must have one value per seed time (", seed_times.shape(0), ")"));
  }
  if (!std::isfinite(seed_merge_ns))
    throw InputError(concat("fit_seeded: seed_merge_ns must be finite, got ", seed_merge_ns));
  if (!(in_time_tolerance_ns >= 0.0))
    throw InputError(concat("fit_seeded: in_time_tolerance_ns must be >= 0, got ", in_time_tolerance_ns));
  auto amplitude = empty1<double>(n), amplitude_err = empty1<double>(n), time_ns = empty1<double>(n),
       chi2 = empty1<double>(n), nearest = empty1<double>(n);
  auto ndf = empty1<int32_t>(n), npulses = empty1<int32_t>(n);
  auto ok = empty1<uint8_t>(n), clip_consistent = empty1<uint8_t>(n);
  SeededInputs in{samples.data(), n, recorded_obj.is_none() ? nullptr : recorded.data(), off, seed_times.data(),
                  in_time_ns.data(), weights_obj.is_none() ? nullptr : weights.data(), seed_merge_ns,
                  in_time_tolerance_ns, fixed_times};
  SeededOutputs out{amplitude.mutable_data(), amplitude_err.mutable_data(), time_ns.mutable_data(),
                    chi2.mutable_data(), ndf.mutable_data(), npulses.mutable_data(), ok.mutable_data(),
                    clip_consistent.mutable_data(), nearest.mutable_data()};
  {
    pb::gil_scoped_release release;
    f.fit_seeded(in, out);
  }
  pb::dict result;
  result["amplitude"] = amplitude;
  result["amplitude_err"] = amplitude_err;
  result["time_ns"] = time_ns;
  result["chi2"] = chi2;
  result["ndf"] = ndf;
  result["npulses"] = npulses;
  result["ok"] = ok;
  result["clip_consistent"] = clip_consistent;
  result["nearest_other_ns"] = nearest;
  return result;
}

}  // namespace

namespace na64::py {
void bind_waveform(pybind11::module_& m) {
  pb::class_<PulseTemplate>(m, "PulseTemplate",
                            "Tabulated pulse shape (natural cubic spline), rescaled to peak 1 at t = 0 ns.")
      .def(pb::init([](const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& t,
                       const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& v) {
             return PulseTemplate(to_vector(t, "times_ns"), to_vector(v, "values"));
           }),
           pb::arg("times_ns"), pb::arg("values"))
      .def("value", [](const PulseTemplate& t, const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& x) {
        return evaluate_many(t, x, false);
      }, pb::arg("t_ns"), "Template value at times t_ns (0 outside the tabulated range).")
      .def("derivative", [](const PulseTemplate& t, const pb::array_t<double, pb::array::c_style | pb::array::forcecast>& x) {
        return evaluate_many(t, x, true);
      }, pb::arg("t_ns"), "Time derivative (per ns) of the template at t_ns.")
      .def_property_readonly("times_ns", [](const PulseTemplate& t) {
        return pb::array_t<double>(static_cast<pb::ssize_t>(t.times().size()), t.times().data());
      })
      .def_property_readonly("values", [](const PulseTemplate& t) {
        return pb::array_t<double>(static_cast<pb::ssize_t>(t.values().size()), t.values().data());
      })
      .def_property_readonly("t_min", &PulseTemplate::t_min)
      .def_property_readonly("t_max", &PulseTemplate::t_max)
      .def_property_readonly("peak_shift_ns", &PulseTemplate::peak_shift_ns,
                             "Time of the input's peak (subtracted from the tabulated times).")
      .def_property_readonly("peak_value", &PulseTemplate::peak_value,
                             "Peak value of the input (the tabulated values were divided by it).")
      .def("__repr__", [](const PulseTemplate& t) {
        return concat("PulseTemplate(", t.times().size(), " points, ", t.t_min(), " to ", t.t_max(), " ns)");
      });

  pb::class_<WaveformFitter>(m, "WaveformFitter", "Batch waveform fitter for windows of a fixed length.")
      .def(pb::init([](const PulseTemplate& tpl, double sampling_ns, int nsamples, double noise_rms,
                       const pb::object& noise_cov, const std::string& pedestal, int leading_samples,
                       double saturation_adc, bool pileup, int max_pulses, double phase_step_ns,
                       double dictionary_step_ns, double pre_window_ns, double post_window_ns,
                       double min_significance, bool exact_refinement, double pileup_chi2_sigma, double pileup_residual_sigma,
                       double pileup_dchi2, const pb::object& trigger_time_ns, double in_time_window_ns,
                       int threads) {
             FitterConfig c;
             c.sampling_ns = sampling_ns;
             c.nsamples = nsamples;
             c.noise_rms = noise_rms;
             if (!noise_cov.is_none()) {
               auto cov = pb::array_t<double, pb::array::c_style | pb::array::forcecast>::ensure(noise_cov);
               if (!cov || cov.ndim() != 2 || cov.shape(0) != nsamples || cov.shape(1) != nsamples)
                 throw InputError(concat("noise_cov must be a (", nsamples, ", ", nsamples, ") matrix"));
               c.noise_covariance.assign(cov.data(), cov.data() + cov.size());
             }
             c.pedestal = parse_pedestal(pedestal);
             c.leading_samples = leading_samples;
             c.saturation_adc = saturation_adc;
             c.pileup = pileup;
             c.max_pulses = max_pulses;
             c.phase_step_ns = phase_step_ns;
             c.dictionary_step_ns = dictionary_step_ns;
             c.pre_window_ns = pre_window_ns;
             c.post_window_ns = post_window_ns;
             c.min_significance = min_significance;
             c.exact_refinement = exact_refinement;
             c.pileup_chi2_sigma = pileup_chi2_sigma;
             c.pileup_residual_sigma = pileup_residual_sigma;
             c.pileup_dchi2 = pileup_dchi2;
             c.trigger_time_ns = trigger_time_ns.is_none() ? std::nan("") : trigger_time_ns.cast<double>();
             c.in_time_window_ns = in_time_window_ns;
             c.threads = threads;
             return std::make_unique<WaveformFitter>(tpl, std::move(c));
           }),
           pb::arg("template"), pb::arg("sampling_ns") = 12.5, pb::arg("nsamples") = 32,
           pb::arg("noise_rms") = 2.0, pb::arg("noise_cov") = pb::none(), pb::arg("pedestal") = "fit",
           pb::arg("leading_samples") = 6, pb::arg("saturation_adc") = 4095.0, pb::arg("pileup") = true,
           pb::arg("max_pulses") = 6, pb::arg("phase_step_ns") = 0.5, pb::arg("dictionary_step_ns") = 6.25,
           pb::arg("pre_window_ns") = 100.0, pb::arg("post_window_ns") = 12.5, pb::arg("min_significance") = 5.0, pb::arg("exact_refinement") = false,
           pb::arg("pileup_chi2_sigma") = 3.0, pb::arg("pileup_residual_sigma") = 3.5,
           pb::arg("pileup_dchi2") = 25.0, pb::arg("trigger_time_ns") = pb::none(),
           pb::arg("in_time_window_ns") = 25.0, pb::arg("threads") = 1)
      .def_property_readonly("nsamples", [](const WaveformFitter& f) { return f.config().nsamples; })
      .def_property_readonly("tau_min", &WaveformFitter::tau_min)
      .def_property_readonly("tau_max", &WaveformFitter::tau_max)
      .def(
          "fit",
          [](const WaveformFitter& f, const pb::array& samples, const pb::object& nsamples,
             const pb::object& pedestal, const pb::object& rows, const pb::object& ht, const pb::object& ho,
             const pb::object& hg, const pb::object& hs) {
            if (pb::isinstance<pb::array_t<uint16_t>>(samples))
              return run_fit<uint16_t>(f, samples, nsamples, pedestal, rows, ht, ho, hg, hs);
            if (pb::isinstance<pb::array_t<float>>(samples))
              return run_fit<float>(f, samples, nsamples, pedestal, rows, ht, ho, hg, hs);
            return run_fit<double>(f, samples, nsamples, pedestal, rows, ht, ho, hg, hs);
          },
          pb::arg("samples"), pb::arg("nsamples") = pb::none(), pb::arg("pedestal") = pb::none(),
          pb::arg("rows") = pb::none(), pb::arg("hint_times") = pb::none(), pb::arg("hint_offsets") = pb::none(),
          pb::arg("hint_group") = pb::none(), pb::arg("hint_shift_ns") = pb::none(),
          "Fit (n, W) samples, or with rows the samples[rows] in place (nsamples and pedestal per "
          "fitted waveform); waveform i may be offered pulse times hint_times[hint_offsets[g]:"
          "hint_offsets[g + 1]] + hint_shift_ns[i] (g = hint_group[i], -1: none). Returns "
          "{'waves': {...}, 'pulses': {...}} of numpy columns.")
      .def("fit_seeded", &run_fit_seeded, pb::arg("samples"), pb::arg("nsamples"), pb::arg("seed_offsets"),
           pb::arg("seed_times"), pb::arg("in_time_ns"), pb::arg("in_time_tolerance_ns") = 3.0,
           pb::arg("fixed_times") = false, pb::arg("seed_weights") = pb::none(), pb::arg("seed_merge_ns") = 0.0,
           "Fit (n, W) samples with known pulse times: row i starts from the peak times "
           "seed_times[seed_offsets[i]:seed_offsets[i+1]] (ns from sample 0), refines them and "
           "reports the pulse within in_time_tolerance_ns of in_time_ns[i] (fixed_times: amplitudes at "
           "the seed times as given); returns numpy columns.");
}
}  // namespace na64::py
