// The whitened sample space a waveform is fitted in: samples divided by the noise (or
// multiplied by the inverse Cholesky factor of the noise covariance), masked samples dropped,
// and the free pedestal directions (even and odd samples: two interleaved ADCs) projected out.
// Linear parameters fitted in this space are least-squares estimates with the pedestal
// profiled away.
#pragma once
#include <cstdint>
#include <vector>

namespace na64::waveform {

constexpr int kMaxSamples = 64;

struct SampleSpace {
  int nsamples = 0;      // window length W
  int nused = 0;         // samples not masked
  bool white = true;     // uncorrelated noise of one rms
  double inv_sigma = 1.0;
  unsigned char used[kMaxSamples] = {};
  // Correlated noise: row-major W x W lower-triangular map from samples to whitened
  // coordinates (masked samples have zero columns; coordinates past nused are zero).
  double whitening[kMaxSamples * kMaxSamples];
  int npedestal = 0;                    // free pedestal directions: 0 (pedestal known) or 1-2
  double q[2][kMaxSamples] = {};        // orthonormal pedestal directions, whitened
  double indicator[2][kMaxSamples] = {};// whitened even / odd indicators (to read pedestals back)
  int indicator_parity[2] = {0, 1};
  int nindicator = 0;
  // White noise, nothing masked, both pedestals free: projecting out the pedestals is
  // subtracting the even and the odd mean (the fast path of project()).
  bool parity_means = false;
  // White noise, both pedestals free, some samples masked: the pedestal directions are the
  // used even / used odd samples, so projecting subtracts the mean of the used samples of
  // each parity (the fast path of project() for the windows fitted on the exact template).
  bool parity_means_masked = false;
  int used_count[2] = {0, 0};
  double used_weight[kMaxSamples] = {};  // 1 for used samples, 0 for masked ones
  double indicator_gram[4] = {};  // indicator[a] . indicator[b]

  void whiten(const double* v, double* out) const;
  void project(double* v) const;
  // y^T P y of an already whitened vector (the chi2 of "no pulse").
  double projected_norm2(const double* yw) const;
};

// Noise description shared by every waveform of a fitter.
struct NoiseModel {
  double rms = 2.0;
  std::vector<double> covariance;  // W*W row-major, empty = white noise of `rms`
};

// Builds the space for a window of W samples; mask[k] != 0 drops sample k (mask may be null).
// Returns false when too few samples are left to fit anything.
bool build_space(SampleSpace& space, int nsamples, const NoiseModel& noise, const unsigned char* mask,
                 bool fit_pedestal);

// Validates a covariance (size, symmetry, positive definiteness) with a clear error.
void check_covariance(const std::vector<double>& cov, int nsamples);

}  // namespace na64::waveform
