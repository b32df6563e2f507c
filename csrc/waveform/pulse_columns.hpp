// Every pulse of a fitted batch, as columns in one LargeBlock: written in place by the fits
// and handed to numpy as they are (no array of structs to copy column by column).
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/large_block.hpp"

namespace na64::waveform {

class PulseColumns {
 public:
  PulseColumns() = default;
  PulseColumns(PulseColumns&& other) noexcept { take(other); }
  PulseColumns& operator=(PulseColumns&& other) noexcept {
    if (this != &other) take(other);
    return *this;
  }
  PulseColumns(const PulseColumns&) = delete;
  PulseColumns& operator=(const PulseColumns&) = delete;

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

  // Room for n pulses in all (the columns move to a larger block when needed).
  void reserve(std::size_t n);
  void clear() { size_ = 0; }
  void push_back(int64_t wave, double amplitude, double time_ns, double amplitude_err, double time_err,
                 bool in_time) {
    if (size_ == capacity_) reserve(capacity_ < 16 ? 16 : 2 * capacity_);
    wave_[size_] = wave;
    amplitude_[size_] = amplitude;
    time_ns_[size_] = time_ns;
    amplitude_err_[size_] = amplitude_err;
    time_err_[size_] = time_err;
    in_time_[size_] = in_time;
    ++size_;
  }
  // Appends every pulse of `other` (the per-thread parts of a batch, in order).
  void append(const PulseColumns& other);

  const int64_t* wave() const { return wave_; }
  const double* amplitude() const { return amplitude_; }
  const double* time_ns() const { return time_ns_; }
  const double* amplitude_err() const { return amplitude_err_; }
  const double* time_err() const { return time_err_; }
  const bool* in_time() const { return in_time_; }

  // The storage, for a caller that keeps the columns alive beyond this object (the column
  // pointers above stay valid while the block lives); leaves this object empty.
  LargeBlock release_storage();

 private:
  void take(PulseColumns& other) noexcept;  // other's pulses become this one's; other is left empty

  LargeBlock block_;
  std::size_t size_ = 0, capacity_ = 0;
  int64_t* wave_ = nullptr;
  double *amplitude_ = nullptr, *time_ns_ = nullptr, *amplitude_err_ = nullptr, *time_err_ = nullptr;
  bool* in_time_ = nullptr;
};

}  // namespace na64::waveform
