#include "waveform/pulse_columns.hpp"

#include <cstring>
#include <utility>

namespace na64::waveform {

void PulseColumns::reserve(std::size_t n) {
  if (n <= capacity_) return;
  std::size_t offset[6], end = 0;
  const std::size_t elem[6] = {sizeof(int64_t), sizeof(double), sizeof(double), sizeof(double), sizeof(double),
                               sizeof(bool)};
  for (int c = 0; c < 6; ++c) {
    offset[c] = LargeBlock::align_up(end);
    end = offset[c] + n * elem[c];
  }
  LargeBlock grown(end);
  unsigned char* base = grown.data();
  auto* wave = reinterpret_cast<int64_t*>(base + offset[0]);
  auto* amplitude = reinterpret_cast<double*>(base + offset[1]);
  auto* time_ns = reinterpret_cast<double*>(base + offset[2]);
  auto* amplitude_err = reinterpret_cast<double*>(base + offset[3]);
  auto* time_err = reinterpret_cast<double*>(base + offset[4]);
  auto* in_time = reinterpret_cast<bool*>(base + offset[5]);
  if (size_ > 0) {
    std::memcpy(wave, wave_, size_ * sizeof(int64_t));
    std::memcpy(amplitude, amplitude_, size_ * sizeof(double));
    std::memcpy(time_ns, time_ns_, size_ * sizeof(double));
    std::memcpy(amplitude_err, amplitude_err_, size_ * sizeof(double));
    std::memcpy(time_err, time_err_, size_ * sizeof(double));
    std::memcpy(in_time, in_time_, size_ * sizeof(bool));
  }
  block_ = std::move(grown);
  capacity_ = n;
  wave_ = wave;
  amplitude_ = amplitude;
  time_ns_ = time_ns;
  amplitude_err_ = amplitude_err;
  time_err_ = time_err;
  in_time_ = in_time;
}

void PulseColumns::append(const PulseColumns& other) {
  if (other.size_ == 0) return;
  reserve(size_ + other.size_);
  std::memcpy(wave_ + size_, other.wave_, other.size_ * sizeof(int64_t));
  std::memcpy(amplitude_ + size_, other.amplitude_, other.size_ * sizeof(double));
  std::memcpy(time_ns_ + size_, other.time_ns_, other.size_ * sizeof(double));
  std::memcpy(amplitude_err_ + size_, other.amplitude_err_, other.size_ * sizeof(double));
  std::memcpy(time_err_ + size_, other.time_err_, other.size_ * sizeof(double));
  std::memcpy(in_time_ + size_, other.in_time_, other.size_ * sizeof(bool));
  size_ += other.size_;
}

void PulseColumns::take(PulseColumns& other) noexcept {
  block_ = std::move(other.block_);
  size_ = std::exchange(other.size_, 0);
  capacity_ = std::exchange(other.capacity_, 0);
  wave_ = std::exchange(other.wave_, nullptr);
  amplitude_ = std::exchange(other.amplitude_, nullptr);
  time_ns_ = std::exchange(other.time_ns_, nullptr);
  amplitude_err_ = std::exchange(other.amplitude_err_, nullptr);
  time_err_ = std::exchange(other.time_err_, nullptr);
  in_time_ = std::exchange(other.in_time_, nullptr);
}

LargeBlock PulseColumns::release_storage() {
  PulseColumns emptied;
  emptied.take(*this);
  return std::move(emptied.block_);
}

}  // namespace na64::waveform
