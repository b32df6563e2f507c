// Per-waveform memo of the dot products the fits on the phase table keep asking for: the data
// against a phase's template / derivative row, and one phase's rows against another's. The
// pile-up search refits the same pulses at the same phases many times (every candidate trial
// re-solves the pulses already accepted); the memo makes those repeats free. Values are the
// very same dot() results, so fits are bit-identical with and without it. Internal.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "waveform/phase_tables.hpp"
#include "waveform/small_linalg.hpp"

namespace na64::waveform {

class PhaseDotCache {
 public:
  // Starts a new waveform: forgets every value (O(1): entries carry the waveform's stamp).
  void begin(const PhaseTable& table, const double* yw) {
    table_ = &table;
    yw_ = yw;
    if (fy_stamp_.size() != static_cast<std::size_t>(table.nphase)) {
      fy_stamp_.assign(static_cast<std::size_t>(table.nphase), 0);
      dy_stamp_.assign(static_cast<std::size_t>(table.nphase), 0);
      fy_.assign(static_cast<std::size_t>(table.nphase), 0.0);
      dy_.assign(static_cast<std::size_t>(table.nphase), 0.0);
      stamp_ = 0;
      for (auto& e : cross_) e.stamp = 0;
    }
    if (++stamp_ == 0) {  // wrapped after 2^32 waveforms: clear the stamps once
      std::fill(fy_stamp_.begin(), fy_stamp_.end(), 0u);
      std::fill(dy_stamp_.begin(), dy_stamp_.end(), 0u);
      for (auto& e : cross_) e.stamp = 0;
      stamp_ = 1;
    }
  }

  // The dot product of a table row with the data.
  double row_dot_y(const double* row) const { return dot_sized(row, yw_, table_->nsamples); }

  // f_p . yw (template row of phase p against the whitened data).
  double f_dot_y(int p) {
    if (fy_stamp_[static_cast<std::size_t>(p)] != stamp_) {
      fy_[static_cast<std::size_t>(p)] = row_dot_y(table_->f_row(p));
      fy_stamp_[static_cast<std::size_t>(p)] = stamp_;
    }
    return fy_[static_cast<std::size_t>(p)];
  }
  // d_p . yw (derivative row of phase p against the whitened data).
  double d_dot_y(int p) {
    if (dy_stamp_[static_cast<std::size_t>(p)] != stamp_) {
      dy_[static_cast<std::size_t>(p)] = row_dot_y(table_->d_row(p));
      dy_stamp_[static_cast<std::size_t>(p)] = stamp_;
    }
    return dy_[static_cast<std::size_t>(p)];
  }

  // Rows of phases pi and pj against each other: out = {f_i.f_j, f_i.d_j, d_i.f_j, d_i.d_j}.
  void cross(int pi, int pj, double out[4]) {
    const int lo = pi < pj ? pi : pj, hi = pi < pj ? pj : pi;
    const uint32_t slot = ((static_cast<uint32_t>(lo) * 2654435761u) ^ static_cast<uint32_t>(hi)) & (kSlots - 1);
    Entry& e = cross_[slot];
    if (e.stamp != stamp_ || e.lo != lo || e.hi != hi) {
      const int n = table_->nsamples;
      const double *flo = table_->f_row(lo), *dlo = table_->d_row(lo);
      const double *fhi = table_->f_row(hi), *dhi = table_->d_row(hi);
      if (n == 32) {
        cross4_32(flo, dlo, fhi, dhi, e.v);
      } else {
        e.v[0] = dot(flo, fhi, n);
        e.v[1] = dot(flo, dhi, n);
        e.v[2] = dot(dlo, fhi, n);
        e.v[3] = dot(dlo, dhi, n);
      }
      e.stamp = stamp_;
      e.lo = lo;
      e.hi = hi;
    }
    // dot() multiplies element by element in a fixed order, so dot(a, b) == dot(b, a)
    // exactly and the transposed pair can be served from the same entry.
    out[0] = e.v[0];
    out[3] = e.v[3];
    out[1] = pi == lo ? e.v[1] : e.v[2];
    out[2] = pi == lo ? e.v[2] : e.v[1];
  }

 private:
  static constexpr uint32_t kSlots = 512;
  struct Entry {
    uint32_t stamp = 0;
    int lo = -1, hi = -1;
    double v[4] = {};
  };
  const PhaseTable* table_ = nullptr;
  const double* yw_ = nullptr;
  uint32_t stamp_ = 0;
  std::vector<uint32_t> fy_stamp_, dy_stamp_;
  std::vector<double> fy_, dy_;
  Entry cross_[kSlots];
};

}  // namespace na64::waveform
