// The simulator's waveform kernel and noise stream: arithmetic, bounds checks, statistics.
// Run under ASan/UBSan by the sanitizer job.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "sim/normal_rng.hpp"
#include "sim/waveform_synth.hpp"
#include "tests/check.hpp"

using na64::sim::SynthInput;

namespace {

struct Fixture {
  std::int64_t cells = 3, samples = 32, kinds = 2, events = 2;
  std::vector<float> pedestal, rms, templates;
  std::vector<double> amplitude;
  std::vector<double> peak, t0;
  std::vector<std::int8_t> kind{0, 1, 1};
  std::vector<std::int64_t> first{0, 1, 3};
  Fixture() {
    pedestal.assign(static_cast<std::size_t>(cells * samples), 100.0f);
    rms.assign(static_cast<std::size_t>(cells), 0.0f);
    amplitude = {1000.0, 0.0, 5000.0, 10.0, 20.0, 0.0, 30.0, 40.0, 50.0};
    templates = {0.0f, 1.0f, 0.0f, 0.0f, 0.5f, 1.0f};  // triangles peaking at t = 0 (kind 0) and t = +12.5
    t0 = {-12.5, -12.5};
    peak = {125.0, 125.0, 250.0, 250.0, 375.0, 375.0};
  }
  SynthInput input() {
    SynthInput in;
    in.n_events = events;
    in.n_cells = cells;
    in.n_samples = samples;
    in.n_kinds = kinds;
    in.n_particles = first.back();
    in.pedestal = pedestal.data();
    in.noise_rms = rms.data();
    in.noise_seed = 5;
    in.amplitude = amplitude.data();
    in.peak_ns = peak.data();
    in.templates = templates.data();
    in.template_len = 3;
    in.template_t0 = t0.data();
    in.template_step = 12.5;
    in.sample_ns = 12.5;
    in.kind = kind.data();
    in.first_particle = first.data();
    return in;
  }
};

bool rejects(const SynthInput& in, const std::string& what) {
  try {
    na64::sim::check_synth_input(in);
  } catch (const na64::InputError& e) {
    return std::string(e.what()).find(what) != std::string::npos;
  }
  return false;
}

void test_pulses_and_saturation() {
  Fixture f;
  auto in = f.input();
  na64::sim::check_synth_input(in);
  std::vector<std::uint16_t> out(static_cast<std::size_t>(f.events * f.cells * f.samples));
  na64::sim::synthesize_waveforms(in, out.data());
  // event 0, cell 0 (kind 0): amplitude 1000 peaking at sample 10
  NA64_CHECK(out[10] == 1100 && out[9] == 100 && out[11] == 100);
  // event 0, cell 2 (kind 1, peak of the template at +12.5 ns): 5000 saturates at sample 11
  NA64_CHECK(out[2 * 32 + 11] == 4095 && out[2 * 32 + 10] == 2600);
  // event 1, cell 1: two particles, 20 at sample 20 (+0.5 * 20 at 19) and 40 at sample 30
  const std::size_t e1c1 = (1 * 3 + 1) * 32;
  NA64_CHECK(out[e1c1 + 21] == 120 && out[e1c1 + 20] == 110 && out[e1c1 + 31] == 140);
}

void test_bad_inputs_are_rejected() {
  Fixture f;
  auto in = f.input();
  f.first = {0, 2, 1};
  in.first_particle = f.first.data();
  NA64_CHECK(rejects(in, "first_particle must run from 0 to 3"));
  f.first = {0, 3, 3};
  in = f.input();
  f.kind[1] = 2;
  NA64_CHECK(rejects(in, "kind[1] = 2"));
  f.kind[1] = 1;
  f.peak[4] = std::nan("");
  NA64_CHECK(rejects(in, "peak_ns[4]"));
  f.peak[4] = 0.0;
  in.noise_rho = 1.0f;
  NA64_CHECK(rejects(in, "noise_rho"));
  in.noise_rho = 0.0f;
  in.template_len = 1;
  NA64_CHECK(rejects(in, "templates need >= 2 points"));
}

void test_normal_stream_moments() {
  na64::sim::NormalRng rng(123);
  std::vector<float> x(1 << 20);
  rng.fill(x.data(), static_cast<std::int64_t>(x.size()));
  double m1 = 0, m2 = 0, m4 = 0;
  for (float v : x) {
    m1 += v;
    m2 += double(v) * v;
    m4 += double(v) * v * v * v;
  }
  const double n = double(x.size());
  NA64_CHECK(std::fabs(m1 / n) < 0.005);
  NA64_CHECK(std::fabs(m2 / n - 1.0) < 0.005);
  NA64_CHECK(std::fabs(m4 / n - 3.0) < 0.05);
  std::vector<float> y(x.size());
  na64::sim::NormalRng again(123);
  again.fill(y.data(), static_cast<std::int64_t>(y.size()));
  NA64_CHECK(x == y);
}

void test_layout_permutes_sums_and_copies() {
  Fixture f;
  auto in = f.input();
  const std::size_t n = static_cast<std::size_t>(f.events * f.cells * f.samples);
  std::vector<std::uint16_t> plain(n), permuted(n), second(static_cast<std::size_t>(f.events * 2 * f.samples));
  std::vector<std::uint16_t> sums(static_cast<std::size_t>(f.events * f.cells));
  na64::sim::synthesize_waveforms(in, plain.data());
  const std::vector<std::int32_t> out_row{2, 0, 1}, second_row{-1, 1, 0};
  na64::sim::SynthLayout layout;
  layout.out_row = out_row.data();
  layout.row_sum = sums.data();
  layout.second = second.data();
  layout.second_row = second_row.data();
  layout.n_second_rows = 2;
  na64::sim::check_synth_layout(in, layout);
  na64::sim::synthesize_waveforms(in, permuted.data(), layout);
  for (std::int64_t e = 0; e < f.events; ++e) {
    for (std::int64_t c = 0; c < f.cells; ++c) {
      const std::uint16_t* a = plain.data() + (e * f.cells + c) * f.samples;
      const std::uint16_t* b = permuted.data() + (e * f.cells + out_row[static_cast<std::size_t>(c)]) * f.samples;
      std::uint32_t total = 0;
      for (std::int64_t s = 0; s < f.samples; ++s) {
        NA64_CHECK(a[s] == b[s]);
        total += a[s];
      }
      NA64_CHECK(sums[static_cast<std::size_t>(e * f.cells + out_row[static_cast<std::size_t>(c)])] == (total & 0xFFFFu));
      if (second_row[static_cast<std::size_t>(c)] >= 0) {
        const std::uint16_t* w = second.data() + (e * 2 + second_row[static_cast<std::size_t>(c)]) * f.samples;
        for (std::int64_t s = 0; s < f.samples; ++s) NA64_CHECK(w[s] == a[s]);
      }
    }
  }
  const auto layout_rejected = [&](const na64::sim::SynthLayout& bad, const std::string& what) {
    try {
      na64::sim::check_synth_layout(in, bad);
    } catch (const na64::InputError& e) {
      return std::string(e.what()).find(what) != std::string::npos;
    }
    return false;
  };
  const std::vector<std::int32_t> repeated{0, 0, 1}, out_of_range{0, 1, 3}, uncovered{-1, -1, 0};
  na64::sim::SynthLayout bad = layout;
  bad.out_row = repeated.data();
  NA64_CHECK(layout_rejected(bad, "out_row[1] = 0"));
  bad.out_row = out_of_range.data();
  NA64_CHECK(layout_rejected(bad, "out_row[2] = 3"));
  bad = layout;
  bad.second_row = uncovered.data();
  NA64_CHECK(layout_rejected(bad, "row 1 of the second output"));
  bad = layout;
  bad.second_row = out_of_range.data();
  NA64_CHECK(layout_rejected(bad, "second_row[2] = 3"));
}

void test_huge_amplitudes_saturate() {
  Fixture f;
  f.amplitude[0] = 1e300;   // beyond float: +inf, saturates
  f.amplitude[2] = -1e300;  // -inf: clamps to 0
  auto in = f.input();
  std::vector<std::uint16_t> out(static_cast<std::size_t>(f.events * f.cells * f.samples));
  na64::sim::synthesize_waveforms(in, out.data());
  NA64_CHECK(out[10] == 4095 && out[2 * 32 + 11] == 0);
}

}  // namespace

int main() {
  test_pulses_and_saturation();
  test_layout_permutes_sums_and_copies();
  test_huge_amplitudes_saturate();
  test_bad_inputs_are_rejected();
  test_normal_stream_moments();
  return 0;
}
