// Fused MSADC waveform synthesis for the simulator: pedestal + noise + template pulses of
// every particle of an event, rounded and clamped to the 12-bit range, in one pass over
// (event, cell, sample). The random numbers come from the caller (numpy) so that Python
// and C++ agree on the stream, except the white noise, drawn here from a seeded stream
// (NormalRng) in a fixed order: event, cell, sample.
#pragma once
#include <cstdint>

namespace na64::sim {

struct SynthInput {
  std::int64_t n_events = 0;
  std::int64_t n_cells = 0;
  std::int64_t n_samples = 0;
  std::int64_t n_kinds = 0;
  std::int64_t n_particles = 0;
  const float* pedestal = nullptr;          // [n_cells * n_samples]
  const float* noise_rms = nullptr;         // [n_cells]
  std::uint64_t noise_seed = 0;             // seed of the white-noise stream
  float noise_rho = 0.0f;                   // AR(1) coefficient between consecutive samples
  const float* common = nullptr;            // [n_events * n_groups * n_samples] or null
  std::int64_t n_groups = 0;
  const std::int32_t* group = nullptr;      // [n_cells] common-mode group (when common)
  float white_weight = 1.0f;                // noise = rms * (white_weight * white + common_weight * common)
  float common_weight = 0.0f;
  const double* amplitude = nullptr;        // [n_particles * n_cells] peak heights (ADC), used as float
  const double* peak_ns = nullptr;          // [n_particles * n_kinds] pulse peak time per detector kind
  const float* templates = nullptr;         // [n_kinds * template_len] peak-normalised, uniform grid
  std::int64_t template_len = 0;
  const double* template_t0 = nullptr;      // [n_kinds] time (relative to the peak) of entry 0
  double template_step = 0.0;               // grid step (ns)
  double sample_ns = 12.5;                  // sample k sits at k * sample_ns
  const std::int8_t* kind = nullptr;        // [n_cells] template of each cell
  const std::int64_t* first_particle = nullptr;  // [n_events + 1], particles sorted by event
};

// Where the kernel puts each cell's window, so that callers get their layouts in the same
// pass instead of gathering afterwards (all optional).
struct SynthLayout {
  const std::int32_t* out_row = nullptr;     // [n_cells] row of cell c inside an event of out (a permutation)
  std::uint16_t* row_sum = nullptr;          // [n_events * n_cells] sum of each out row's samples mod 2^16
  std::uint16_t* second = nullptr;           // [n_events * n_second_rows * n_samples] a second copy
  const std::int32_t* second_row = nullptr;  // [n_cells] row of cell c in second, -1: not copied
  std::int64_t n_second_rows = 0;
};

// Checks the layout against the input (permutation, row ranges); throws InputError.
void check_synth_layout(const SynthInput& in, const SynthLayout& layout);

// Checks every index the kernel will follow; throws InputError naming the first bad one.
void check_synth_input(const SynthInput& in);

// out: [n_events * n_cells * n_samples] ADC samples: clamp to 0..4095, round half up.
void synthesize_waveforms(const SynthInput& in, std::uint16_t* out, const SynthLayout& layout = {});

// The white noise the kernel uses, [n_windows * window] in consumption order: unit normals,
// AR(1)-correlated inside each window when rho != 0 (x0 = z0, x_s = rho x_{s-1} + sqrt(1-rho^2) z_s).
void noise_windows(std::uint64_t seed, std::int64_t n_windows, std::int64_t window, float rho, float* out);

}  // namespace na64::sim
