// Calibrated cell energies from fitted pulses: ADC -> MeV with per-spill LED corrections,
// and the split of each cell's energy into in-time and out-of-time (pile-up) parts using
// the event's master time from the beam counters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace na64::calo {

// Fitted pulses of a batch, grouped by event: pulses of event e are rows
// offsets[e] .. offsets[e+1]-1. `cell` is the global cell index of the calorimeter layout.
struct PulseBatch {
  std::size_t n_events = 0;
  const int64_t* offsets = nullptr;  // n_events + 1
  std::size_t n_pulses = 0;
  const int32_t* cell = nullptr;
  const double* amplitude = nullptr;  // ADC counts above pedestal
  const double* time_ns = nullptr;    // template peak time from the window start
  const double* time_err = nullptr;   // per-pulse time error from the fit (ns); may be null
  // per pulse, 0 where its time must not refine the master time (a pulse of a waveform with
  // clipped samples: its peak is hidden and its time follows the fit's decomposition of the
  // overlapping pulses, not the particle); may be null (every pulse may)
  const uint8_t* refine_ok = nullptr;
};

struct CellCalibration {
  std::size_t n_cells = 0;
  const double* mev_per_adc = nullptr;    // n_cells
  const double* time_mean_ns = nullptr;   // expected pulse time relative to the master time
  const double* time_sigma_ns = nullptr;  // width of that expectation
  const double* led_run = nullptr;        // n_cells: run-average LED correction
  const double* led_spill = nullptr;      // n_spill_rows x n_cells; NaN = no LED that spill
  std::size_t n_spill_rows = 0;
};

// The counter time is the mean (or, with `median`, the median) over the beam counters that
// fired of (pulse time - offset); per counter the pulse closest to nominal_ns + offset within
// search_ns is taken. Pile-up within a few samples merges with the trigger particle's counter
// pulse and drags that time by several ns, so it can be refined with the calorimeter: among
// the pulses of `refine_cells` (the ECAL) with at least refine_min_mev whose time less the
// cell's time_mean lies within refine_search_ns of the counter time, the one closest to the
// anchor is taken (RefineAnchor), and the master time becomes the energy-weighted mean of
// (time - time_mean) over those candidates within refine_cluster_ns of it (pulses of clipped
// waveforms, PulseBatch::refine_ok, only where no other candidate is). The ECAL times
// are an order of magnitude sharper than the counters'. Candidates must also lie within
// refine_window_ns of nominal_ns: the trigger particle can only be where the trigger timing
// (the phase jitter) allows.
enum class RefineAnchor {
  kCounters,  // the counter time
  // nominal_ns: counters that merged two particles 5-15 ns apart into one pulse sit between
  // the two showers the ECAL resolves and pick either, while the trigger particle lies
  // within the phase jitter of nominal_ns and the other one mostly beyond it
  kNominal,
  // nominal_ns when the counters' times spread over more than refine_spread_ns (one of them
  // merged a second particle), else the counter time: counters that agree timed one
  // particle, and a small pulse beside its shower (nearer nominal_ns) must not take over
  kAuto,
};
struct MasterTimeConfig {
  std::vector<int32_t> counter_cells;
  std::vector<double> counter_offset_ns;
  double nominal_ns = 0.0;
  double search_ns = 50.0;
  bool median = false;
  std::vector<int32_t> refine_cells;  // empty: the counter time is the master time
  double refine_min_mev = 1000.0;
  double refine_search_ns = 5.0;
  double refine_cluster_ns = 2.0;
  double refine_window_ns = 1e9;
  RefineAnchor refine_anchor = RefineAnchor::kCounters;
  double refine_spread_ns = 0.5;
  // The anchor is a candidate whose shower (the candidates within refine_cluster_ns of it,
  // energy summed) holds at least refine_min_fraction of the largest candidate shower's
  // energy, and that is the largest candidate within refine_local_ns of its time (0: no such
  // test): a small pulse that a fit hangs a few ns beside a large one, or a neighbour cell's
  // fit that splits two overlapping pulses at a time between them, is no particle of its own.
  double refine_min_fraction = 0.0;
  double refine_local_ns = 0.0;
  // ... and whose shower holds a pulse of one of these cells (the main section: a particle's
  // shower reaches it, a pre-shower fit's fragment alone does not); empty: no such test
  std::vector<int32_t> refine_main_cells{};
};

struct CellOutputs {
  double* e_in = nullptr;       // n_events x n_cells, MeV, pulses inside the time window
  double* e_near = nullptr;     // n_events x n_cells, MeV, just outside: timing ambiguous ("bad" energy)
  double* e_out = nullptr;      // n_events x n_cells, MeV, well outside: resolved pile-up
  double* t_cell = nullptr;     // n_events x n_cells, time of the largest in-time pulse, NaN if none
  double* master_ns = nullptr;  // n_events (nominal_ns where no counter fired)
  int32_t* n_counters = nullptr;  // n_events: counters that contributed to the master time
  uint8_t* refined = nullptr;     // n_events (optional): 1 where the calorimeter refined it
};

// spill_row[e] selects the LED row of event e (-1: use the run average). With
// pull = |t - master - time_mean| / sqrt(time_sigma^2 + time_err^2) (small pulses have
// worse timing, so their window widens; time_err is capped at max_time_err_ns because fits
// of pulses peaking before the window report huge errors and would otherwise look in time)
// a pulse is in time when pull <= n_sigma,
// near (bad energy) when pull <= near_sigma, else pile-up. Throws InputError on
// inconsistent arguments (bad offsets, cells or spill rows out of range).
void calibrate_cells(const PulseBatch& pulses, const int32_t* spill_row,
                     const CellCalibration& calib, const MasterTimeConfig& master,
                     double n_sigma, double near_sigma, double max_time_err_ns, CellOutputs& out);

// Global cell index of (plane, x, y) rows: plane_begin[p] + x * ny[p] + y, or -1 when the
// plane is unknown (e.g. -1 = unmapped digit) or (x, y) lies outside it.
void cell_index(const int16_t* plane, const int16_t* x, const int16_t* y, std::size_t n,
                const std::vector<int64_t>& plane_begin, const std::vector<int32_t>& plane_nx,
                const std::vector<int32_t>& plane_ny, int32_t* out);

}  // namespace na64::calo
