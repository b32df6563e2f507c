// Fits random and extreme 12-bit windows through every code path of the waveform fitter
// (tables, masked samples, correlated noise, pedestal modes, pile-up search, pulse times given
// in advance, rows read through a table); run under
// ASan/UBSan in CI. Checks: no crash, finite outputs, known flags only, consistent pulses.
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "tests/check.hpp"
#include "tests/test_template.hpp"
#include "waveform/pulse_template.hpp"
#include "waveform/waveform_fitter.hpp"

using namespace na64::waveform;

namespace {

struct Lcg {  // deterministic, no <random> distribution differences between platforms
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s >> 33);
  }
  double uniform() { return next() / 2147483648.0; }
};

struct Columns {
  explicit Columns(size_t n)
      : amp(n), amp_err(n), time(n), time_err(n), ped(n), ped_e(n), ped_o(n), chi2(n), pileup(n), ndf(n),
        npulses(n), flags(n) {}
  WaveOutputs outputs() {
    return WaveOutputs{amp.data(),  amp_err.data(), time.data(), time_err.data(), ped.data(),     ped_e.data(),
                       ped_o.data(), chi2.data(),   ndf.data(),  npulses.data(),  flags.data(), pileup.data()};
  }
  std::vector<double> amp, amp_err, time, time_err, ped, ped_e, ped_o, chi2, pileup;
  std::vector<int32_t> ndf, npulses;
  std::vector<uint32_t> flags;
};

// n outputs (rows: the sample rows they read, null = 0..n-1; recorded and pedestal per output).
void check_batch(const WaveformFitter& fitter, const std::vector<uint16_t>& samples, int64_t n,
                 const int32_t* recorded, const double* pedestal, const int64_t* rows = nullptr,
                 const TimeHints* hints = nullptr) {
  Columns c(static_cast<size_t>(n));
  PulseColumns pulses;
  fitter.fit(samples.data(), n, recorded, pedestal, c.outputs(), pulses, rows, hints);
  const uint32_t known = 0x1FFu;
  std::vector<int> per_wave(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    for (double v : {c.amp[k], c.amp_err[k], c.time[k], c.time_err[k], c.ped[k], c.ped_e[k], c.ped_o[k], c.chi2[k],
                     c.pileup[k]})
      NA64_CHECK(std::isfinite(v));
    NA64_CHECK((c.flags[k] & ~known) == 0);
    NA64_CHECK(c.npulses[k] >= 0 && c.npulses[k] <= fitter.config().max_pulses);
    NA64_CHECK(c.chi2[k] >= 0.0 && c.amp_err[k] >= 0.0 && c.time_err[k] >= 0.0);
  }
  int64_t last = -1;
  for (size_t j = 0; j < pulses.size(); ++j) {
    const int64_t wave = pulses.wave()[j];
    NA64_CHECK(wave >= 0 && wave < n && wave >= last);
    last = wave;
    ++per_wave[static_cast<size_t>(wave)];
    NA64_CHECK(std::isfinite(pulses.amplitude()[j]) && std::isfinite(pulses.time_ns()[j]) &&
               std::isfinite(pulses.amplitude_err()[j]) && std::isfinite(pulses.time_err()[j]));
  }
  for (int64_t i = 0; i < n; ++i) NA64_CHECK(per_wave[static_cast<size_t>(i)] == c.npulses[static_cast<size_t>(i)]);
}

// fit_seeded over the same windows with random, absurd and missing seeds and in-time times.
void check_seeded(const WaveformFitter& fitter, const std::vector<uint16_t>& samples, int64_t n,
                  const int32_t* recorded, Lcg& rng) {
  const int w = fitter.config().nsamples;
  std::vector<double> x(samples.begin(), samples.end());
  for (size_t k = 0; k < x.size(); k += 97) x[k] = k % 2 ? std::nan("") : -1e300;  // non-finite and absurd samples
  std::vector<int64_t> offsets(static_cast<size_t>(n) + 1, 0);
  std::vector<double> seeds, in_time(static_cast<size_t>(n));
  const double odd_values[] = {std::nan(""), 1e300, -1e300, -500.0, 1e6, 0.0};
  for (int64_t i = 0; i < n; ++i) {
    const int count = static_cast<int>(rng.next() % 60);  // beyond the seed buffer too
    for (int j = 0; j < count; ++j)
      seeds.push_back(j % 7 == 6 ? odd_values[rng.next() % 6] : -150.0 + 600.0 * rng.uniform());
    offsets[static_cast<size_t>(i) + 1] = static_cast<int64_t>(seeds.size());
    in_time[static_cast<size_t>(i)] = i % 11 == 0 ? odd_values[rng.next() % 6] : 12.5 * (rng.next() % w);
  }
  const size_t m = static_cast<size_t>(n);
  std::vector<double> amp(m), amp_err(m), time(m), chi2(m), nearest(m);
  std::vector<int32_t> ndf(m), npulses(m);
  std::vector<uint8_t> ok(m), clip(m);
  std::vector<double> weights(seeds.size());
  for (double& v : weights) v = rng.uniform() < 0.05 ? std::nan("") : 1000.0 * rng.uniform();
  for (int mode = 0; mode < 4; ++mode) {
  SeededInputs in{x.data(), n, recorded, offsets.data(), seeds.data(), in_time.data(),
                  mode & 1 ? weights.data() : nullptr, mode & 1 ? 6.25 : 0.0, 3.0, (mode & 2) != 0};
  SeededOutputs out{amp.data(), amp_err.data(), time.data(), chi2.data(), ndf.data(), npulses.data(), ok.data(),
                    clip.data(), nearest.data()};
  fitter.fit_seeded(in, out);
  for (size_t k = 0; k < m; ++k) {
    NA64_CHECK(std::isfinite(amp[k]) && std::isfinite(amp_err[k]) && std::isfinite(chi2[k]));
    NA64_CHECK(amp_err[k] >= 0.0 && chi2[k] >= 0.0);
    NA64_CHECK(std::isnan(time[k]) || std::isfinite(time[k]));
    NA64_CHECK(npulses[k] >= 0 && npulses[k] <= fitter.config().max_pulses);
    NA64_CHECK(ok[k] <= 1 && clip[k] <= 1);
    NA64_CHECK(nearest[k] >= 0.0 && !std::isnan(nearest[k]));
  }
  }
}

// The same windows read through a table of rows (repeats, any order) and offered random pulse
// times: more than a model holds, duplicates, times far outside the window, none.
void check_hinted(const WaveformFitter& fitter, const std::vector<uint16_t>& samples, int64_t n_rows,
                  const int32_t* recorded, const double* pedestal, Lcg& rng) {
  const int64_t n = n_rows + n_rows / 3;
  std::vector<int64_t> rows(static_cast<size_t>(n)), group(static_cast<size_t>(n));
  std::vector<int32_t> rec(static_cast<size_t>(n));
  std::vector<double> ped(static_cast<size_t>(n) * 2), shift(static_cast<size_t>(n)), times;
  const int64_t ngroups = 50;
  std::vector<int64_t> offsets(static_cast<size_t>(ngroups) + 1, 0);
  for (int64_t g = 0; g < ngroups; ++g) {
    const int count = static_cast<int>(rng.next() % 20);
    double t = -400.0 + 100.0 * rng.uniform();
    for (int j = 0; j < count; ++j) {
      times.push_back(t);
      t += j % 5 == 4 ? 0.0 : 60.0 * rng.uniform();  // some twice
    }
    offsets[static_cast<size_t>(g) + 1] = static_cast<int64_t>(times.size());
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    rows[k] = static_cast<int64_t>(rng.next() % static_cast<uint32_t>(n_rows));
    rec[k] = recorded ? recorded[rows[k]] : 32;
    ped[2 * k] = pedestal[2 * rows[k]];
    ped[2 * k + 1] = pedestal[2 * rows[k] + 1];
    group[k] = i % 7 == 0 ? -1 : static_cast<int64_t>(rng.next() % ngroups);
    shift[k] = i % 13 == 0 ? 1e6 : -20.0 + 40.0 * rng.uniform();
  }
  const TimeHints hints{times.data(), offsets.data(), group.data(), shift.data()};
  check_batch(fitter, samples, n, rec.data(), ped.data(), rows.data(), &hints);
}

}  // namespace

int main() {
  const PulseTemplate tpl = make_test_template();
  const int w = 32;
  std::vector<FitterConfig> configs(5);
  configs[1].pedestal = PedestalMode::kLeading;
  configs[2].pedestal = PedestalMode::kFixed;
  configs[3].noise_covariance.resize(w * w);
  for (int i = 0; i < w; ++i)
    for (int j = 0; j < w; ++j) configs[3].noise_covariance[i * w + j] = 4.0 * std::pow(0.6, std::abs(i - j));
  configs[4].max_pulses = 12;
  configs[4].trigger_time_ns = 150.0;
  configs[4].threads = 2;

  Lcg rng{12345};
  const int64_t n = 600;
  std::vector<uint16_t> samples(static_cast<size_t>(n) * w);
  std::vector<int32_t> recorded(static_cast<size_t>(n));
  std::vector<double> pedestal(static_cast<size_t>(n) * 2);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t* row = &samples[static_cast<size_t>(i) * w];
    const int kind = static_cast<int>(i % 10);
    // one pulse per window (kinds 6-9), drawn once so that the samples form its shape
    const double a = 50.0 + 20000.0 * rng.uniform();
    const double tau = -100.0 + 500.0 * rng.uniform();
    for (int k = 0; k < w; ++k) {
      switch (kind) {
        case 0: row[k] = static_cast<uint16_t>(rng.next() % 4096); break;                       // white garbage
        case 1: row[k] = 4095; break;                                                           // all saturated
        case 2: row[k] = 0; break;                                                              // empty
        case 3: row[k] = static_cast<uint16_t>(k % 2 ? 4095 : 0); break;                        // alternating
        case 4: row[k] = static_cast<uint16_t>(k == static_cast<int>(i % w) ? 4095 : 100); break;  // spike
        case 5: row[k] = static_cast<uint16_t>(2000 - (k > 10 && k < 16 ? 1500 : 0)); break;      // dip
        default: {  // pulses, some saturating, some with a tail from before the window
          const double t = 12.5 * k;
          double v = 100.0 + 2.0 * (rng.uniform() - 0.5) * 3.0;
          v += a * tpl.value(t - tau);
          if (kind == 7) v += 0.3 * a * tpl.value(t - tau - 30.0);
          if (kind == 9) v += 0.8 * a * tpl.value(t - tau - 22.0);  // a pair a couple of samples apart
          if (kind == 8)  // a train of pulses: the pile-up search adds them one by one
            for (int j = 1; j <= 5; ++j) v += (0.05 + 0.2 * j) * a * tpl.value(t - tau + 60.0 * j - 150.0);
          row[k] = static_cast<uint16_t>(v > 4095.0 ? 4095.0 : (v < 0.0 ? 0.0 : v));
        }
      }
    }
    recorded[static_cast<size_t>(i)] = static_cast<int32_t>(i % 5 == 0 ? rng.next() % 40 : w);
    pedestal[2 * static_cast<size_t>(i)] = pedestal[2 * static_cast<size_t>(i) + 1] = 4096.0 * rng.uniform();
  }
  for (const FitterConfig& cfg : configs) {
    const WaveformFitter fitter(tpl, cfg);
    check_batch(fitter, samples, n, nullptr, pedestal.data());
    check_batch(fitter, samples, n, recorded.data(), pedestal.data());
    check_seeded(fitter, samples, n, recorded.data(), rng);
    check_hinted(fitter, samples, n, recorded.data(), pedestal.data(), rng);
  }
  // Bad configuration is an InputError, not a crash.
  FitterConfig bad;
  bad.nsamples = 1000;
  NA64_CHECK(throws_input_error([&] { WaveformFitter f(tpl, bad); }));
  return 0;
}
