// Memory for batch outputs of many megabytes. Written once from start to end, such outputs
// cost more in first-touch page faults than in filling them when they come in 4 KiB pages
// (a fitted batch of 400k windows: ~15 % of the fit); blocks of at least 2 MiB are therefore
// 2 MiB-aligned and advised for transparent huge pages (Linux), one fault per 2 MiB.
// Smaller blocks are ordinary 64-byte-aligned memory. Freed huge blocks are kept (a few, of
// bounded size) for later requests of a similar size: see large_block.cpp.
#pragma once
#include <cstddef>
#include <utility>

namespace na64 {

class LargeBlock {
 public:
  LargeBlock() = default;
  // Throws std::bad_alloc when the memory cannot be had.
  explicit LargeBlock(std::size_t bytes);
  ~LargeBlock();
  LargeBlock(LargeBlock&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        bytes_(std::exchange(o.bytes_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  LargeBlock& operator=(LargeBlock&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  LargeBlock(const LargeBlock&) = delete;
  LargeBlock& operator=(const LargeBlock&) = delete;

  unsigned char* data() const { return data_; }
  std::size_t size() const { return bytes_; }

  // offset rounded up to a cache line: where the next column of a block of columns starts
  static std::size_t align_up(std::size_t offset) { return (offset + 63) / 64 * 64; }

 private:
  void release() noexcept;
  unsigned char* data_ = nullptr;
  std::size_t bytes_ = 0;     // as requested
  std::size_t capacity_ = 0;  // as allocated (rounded up; a kept block may be larger)
};

}  // namespace na64
