#include "sim/waveform_synth.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <vector>

#include "common/error.hpp"
#include "sim/normal_rng.hpp"

namespace na64::sim {

void check_synth_input(const SynthInput& in) {
  if (in.n_events < 0 || in.n_cells <= 0 || in.n_samples <= 0 || in.n_kinds <= 0 || in.n_particles < 0)
    throw InputError(concat("synthesize: bad dimensions events=", in.n_events, " cells=", in.n_cells,
                            " samples=", in.n_samples, " kinds=", in.n_kinds, " particles=", in.n_particles));
  if (!(in.noise_rho > -1.0f && in.noise_rho < 1.0f))
    throw InputError(concat("synthesize: noise_rho = ", in.noise_rho, ", expected (-1, 1)"));
  for (std::int64_t c = 0; c < in.n_cells; ++c) {
    if (in.kind[c] < 0 || in.kind[c] >= in.n_kinds)
      throw InputError(concat("synthesize: kind[", c, "] = ", int(in.kind[c]), ", expected 0..", in.n_kinds - 1));
    if (in.common && (in.group[c] < 0 || in.group[c] >= in.n_groups))
      throw InputError(concat("synthesize: group[", c, "] = ", in.group[c], ", expected 0..", in.n_groups - 1));
  }
  if (in.template_len < 2 || !(in.template_step > 0.0) || !(in.sample_ns > 0.0))
    throw InputError(concat("synthesize: templates need >= 2 points and a positive step, got ", in.template_len,
                            " points, step ", in.template_step, " ns, sample ", in.sample_ns, " ns"));
  for (std::int64_t k = 0; k < in.n_kinds; ++k) {
    if (!std::isfinite(in.template_t0[k]))
      throw InputError(concat("synthesize: template_t0[", k, "] is not finite"));
  }
  for (std::int64_t i = 0; i < in.n_particles * in.n_kinds; ++i) {
    if (!std::isfinite(in.peak_ns[i]))
      throw InputError(concat("synthesize: peak_ns[", i, "] = ", in.peak_ns[i], ", expected a finite time"));
  }
  if (in.first_particle[0] != 0 || in.first_particle[in.n_events] != in.n_particles)
    throw InputError(concat("synthesize: first_particle must run from 0 to ", in.n_particles, ", got ",
                            in.first_particle[0], " .. ", in.first_particle[in.n_events]));
  for (std::int64_t e = 0; e < in.n_events; ++e) {
    if (in.first_particle[e + 1] < in.first_particle[e])
      throw InputError(concat("synthesize: first_particle decreases at event ", e, " (",
                              in.first_particle[e], " -> ", in.first_particle[e + 1], ")"));
  }
}

void check_synth_layout(const SynthInput& in, const SynthLayout& layout) {
  if (layout.out_row) {
    std::vector<char> seen(static_cast<std::size_t>(in.n_cells), 0);
    for (std::int64_t c = 0; c < in.n_cells; ++c) {
      const std::int32_t r = layout.out_row[c];
      if (r < 0 || r >= in.n_cells || seen[static_cast<std::size_t>(r)])
        throw InputError(concat("synthesize: out_row[", c, "] = ", r, ", expected a permutation of 0..",
                                in.n_cells - 1));
      seen[static_cast<std::size_t>(r)] = 1;
    }
  }
  if (layout.second) {
    if (!layout.second_row || layout.n_second_rows < 0)
      throw InputError(concat("synthesize: a second output needs second_row and n_second_rows >= 0, got ",
                              layout.n_second_rows));
    std::vector<char> seen(static_cast<std::size_t>(layout.n_second_rows), 0);
    for (std::int64_t c = 0; c < in.n_cells; ++c) {
      const std::int32_t r = layout.second_row[c];
      if (r < -1 || r >= layout.n_second_rows || (r >= 0 && seen[static_cast<std::size_t>(r)]))
        throw InputError(concat("synthesize: second_row[", c, "] = ", r, ", expected -1 or a distinct row 0..",
                                layout.n_second_rows - 1));
      if (r >= 0) seen[static_cast<std::size_t>(r)] = 1;
    }
    for (std::int64_t r = 0; r < layout.n_second_rows; ++r) {
      if (!seen[static_cast<std::size_t>(r)])
        throw InputError(concat("synthesize: row ", r, " of the second output gets no cell"));
    }
  }
}

namespace {

// Linear interpolation on the uniform template grid; zero outside it.
float template_value(const float* tpl, std::int64_t len, double t0, double step, double t) {
  const double x = (t - t0) / step;
  if (!(x >= 0.0) || x > static_cast<double>(len - 1)) return 0.0f;
  auto i = static_cast<std::int64_t>(x);
  if (i >= len - 1) return tpl[len - 1];
  const auto w = static_cast<float>(x - static_cast<double>(i));
  return tpl[i] + w * (tpl[i + 1] - tpl[i]);
}

// double -> float as numpy casts: out-of-range values become +-inf (a plain cast would be undefined)
float to_float(double x) {
  if (std::fabs(x) <= static_cast<double>(std::numeric_limits<float>::max())) return static_cast<float>(x);
  if (x > 0.0) return std::numeric_limits<float>::infinity();
  if (x < 0.0) return -std::numeric_limits<float>::infinity();
  return std::numeric_limits<float>::quiet_NaN();
}

// Round half up by truncation after the clamp to 0..4095 (an inline conversion, where
// nearbyint is a libm call on baseline x86-64); NaN lands on 0, not on an undefined cast.
// GCC keeps the scalar form unvectorised (trapping-math), hence SSE2, the x86-64 baseline.
float clamp_adc(float v) {
  v = v >= 0.0f ? v : 0.0f;
  return v < 4095.0f ? v : 4095.0f;
}

void round_to_adc(const float* __restrict in, std::int32_t* __restrict out, std::int64_t n) {
  std::int64_t s = 0;
#if defined(__SSE2__)
  const __m128 zero = _mm_setzero_ps();
  const __m128 top = _mm_set1_ps(4095.0f);
  const __m128 half = _mm_set1_ps(0.5f);
  for (; s + 4 <= n; s += 4) {
    __m128 v = _mm_loadu_ps(in + s);
    v = _mm_and_ps(v, _mm_cmpge_ps(v, zero));  // NaN and negatives -> 0
    v = _mm_min_ps(v, top);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + s), _mm_cvttps_epi32(_mm_add_ps(v, half)));
  }
#endif
  for (; s < n; ++s) out[s] = static_cast<std::int32_t>(clamp_adc(in[s]) + 0.5f);
}

// The kernel body; kFixedSamples > 0 is the window width known at compile time (the default
// 32-sample MSADC window), which lets every per-cell loop unroll without a remainder, 0 reads
// it from the input.
template <std::int64_t kFixedSamples>
void synthesize_impl(const SynthInput& in, std::uint16_t* out, const SynthLayout& layout) {
  const std::int64_t S = kFixedSamples > 0 ? kFixedSamples : in.n_samples;
  const std::int64_t K = in.n_kinds;
  std::vector<float> acc(static_cast<std::size_t>(S));
  // one event's white noise, drawn cell by cell before the cells are made: the scalar stores
  // of the generator have retired by the time the vector loops read them back (reading each
  // cell's right after drawing it stalled on store forwarding)
  std::vector<float> white(static_cast<std::size_t>(in.n_cells * S));
  NormalRng rng(in.noise_seed);
  const float rho = in.noise_rho;
  const float rho_scale = std::sqrt(1.0f - rho * rho);
  std::vector<float> shapes;  // [particles of the event][kind][sample]
  std::vector<char> shape_ready;  // shapes are made on first use: most pile-up particles miss most kinds
  std::vector<std::int32_t> rounded(static_cast<std::size_t>(S));
  for (std::int64_t e = 0; e < in.n_events; ++e) {
    const std::int64_t p0 = in.first_particle[e];
    const std::int64_t p1 = in.first_particle[e + 1];
    shapes.resize(static_cast<std::size_t>((p1 - p0) * K * S));
    shape_ready.assign(static_cast<std::size_t>((p1 - p0) * K), 0);
    for (std::int64_t c = 0; c < in.n_cells; ++c) rng.fill(white.data() + c * S, S);
    for (std::int64_t c = 0; c < in.n_cells; ++c) {
      const float rms = in.noise_rms[c];
      const float* __restrict ped = in.pedestal + c * S;
      float* __restrict w = white.data() + c * S;
      float* __restrict sum_f = acc.data();
      if (rho != 0.0f) {
        for (std::int64_t s = 1; s < S; ++s) w[s] = rho * w[s - 1] + rho_scale * w[s];
      }
      if (in.common) {
        const float* __restrict cm = in.common + (e * in.n_groups + in.group[c]) * S;
        for (std::int64_t s = 0; s < S; ++s)
          sum_f[s] = ped[s] + rms * (in.white_weight * w[s] + in.common_weight * cm[s]);
      } else {
        for (std::int64_t s = 0; s < S; ++s) sum_f[s] = ped[s] + rms * w[s];
      }
      const std::int64_t k = in.kind[c];
      for (std::int64_t p = p0; p < p1; ++p) {
        const float a = to_float(in.amplitude[p * in.n_cells + c]);
        if (a == 0.0f) continue;
        const std::int64_t slot = (p - p0) * K + k;
        float* __restrict shape = shapes.data() + slot * S;
        if (!shape_ready[static_cast<std::size_t>(slot)]) {
          const double peak = in.peak_ns[p * K + k];
          const float* tpl = in.templates + k * in.template_len;
          for (std::int64_t s = 0; s < S; ++s)
            shape[s] = template_value(tpl, in.template_len, in.template_t0[k], in.template_step,
                                      static_cast<double>(s) * in.sample_ns - peak);
          shape_ready[static_cast<std::size_t>(slot)] = 1;
        }
        for (std::int64_t s = 0; s < S; ++s) sum_f[s] += a * shape[s];
      }
      std::int32_t* __restrict r = rounded.data();
      round_to_adc(sum_f, r, S);
      const std::int64_t row = layout.out_row ? layout.out_row[c] : c;
      std::uint16_t* __restrict o = out + (e * in.n_cells + row) * S;
      std::int32_t sum = 0;
      if (layout.second && layout.second_row[c] >= 0) {
        // both copies from the rounded values: reading o back would wait on its fresh stores
        std::uint16_t* __restrict o2 = layout.second + (e * layout.n_second_rows + layout.second_row[c]) * S;
        for (std::int64_t s = 0; s < S; ++s) {
          o[s] = static_cast<std::uint16_t>(r[s]);
          o2[s] = static_cast<std::uint16_t>(r[s]);
          sum += r[s];
        }
      } else {
        for (std::int64_t s = 0; s < S; ++s) {
          o[s] = static_cast<std::uint16_t>(r[s]);
          sum += r[s];
        }
      }
      if (layout.row_sum) layout.row_sum[e * in.n_cells + row] = static_cast<std::uint16_t>(sum & 0xFFFF);
    }
  }
}

}  // namespace

void synthesize_waveforms(const SynthInput& in, std::uint16_t* out, const SynthLayout& layout) {
  if (in.n_samples == 32) {
    synthesize_impl<32>(in, out, layout);
  } else {
    synthesize_impl<0>(in, out, layout);
  }
}

void noise_windows(std::uint64_t seed, std::int64_t n_windows, std::int64_t window, float rho, float* out) {
  if (n_windows < 0 || window <= 0)
    throw InputError(concat("noise_windows: bad shape ", n_windows, " x ", window));
  if (!(rho > -1.0f && rho < 1.0f)) throw InputError(concat("noise_windows: rho = ", rho, ", expected (-1, 1)"));
  NormalRng rng(seed);
  const float rho_scale = std::sqrt(1.0f - rho * rho);
  for (std::int64_t w = 0; w < n_windows; ++w) {
    float* x = out + w * window;
    rng.fill(x, window);
    if (rho != 0.0f) {
      for (std::int64_t s = 1; s < window; ++s) x[s] = rho * x[s - 1] + rho_scale * x[s];
    }
  }
}

}  // namespace na64::sim
