#include "common/large_block.hpp"

#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace na64 {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}

LargeBlock::LargeBlock(std::size_t bytes) {
  if (bytes == 0) return;
  const bool huge = bytes >= kHugePage;
  const std::size_t align = huge ? kHugePage : 64;
  const std::size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(align, rounded);
  if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: where transparent huge pages are off it fails harmlessly.
  if (huge) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
  data_ = static_cast<unsigned char*>(p);
  bytes_ = bytes;
}

LargeBlock::~LargeBlock() { release(); }

void LargeBlock::release() noexcept {
  std::free(data_);
  data_ = nullptr;
  bytes_ = 0;
}

}  // namespace na64
