#include "common/large_block.hpp"

#include <cstdlib>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace na64 {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Freed huge blocks are kept for the next request of a similar size: a batch loop asks for
// the same sizes over and over, and a kept block's pages are already faulted in (and need
// not be zeroed by the kernel again). A few blocks of a bounded total are kept; the cache is
// never destroyed, so that blocks freed during interpreter shutdown still find it.
class KeptBlocks {
 public:
  // A kept block of at least `bytes` and at most twice that (its size in *size), or null.
  void* take(std::size_t bytes, std::size_t* size) {
    std::lock_guard<std::mutex> lock(mutex_);
    int best = -1;
    for (int i = 0; i < count_; ++i)
      if (kept_[i].size >= bytes && kept_[i].size <= 2 * bytes && (best < 0 || kept_[i].size < kept_[best].size))
        best = i;
    if (best < 0) return nullptr;
    void* p = kept_[best].data;
    *size = kept_[best].size;
    total_ -= kept_[best].size;
    kept_[best] = kept_[--count_];
    return p;
  }
  // Keeps the block if there is room; false: the caller frees it.
  bool keep(void* p, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count_ == kMaxBlocks || total_ + size > kMaxBytes) return false;
    kept_[count_++] = Entry{p, size};
    total_ += size;
    return true;
  }

 private:
  static constexpr int kMaxBlocks = 4;
  static constexpr std::size_t kMaxBytes = std::size_t{128} << 20;
  struct Entry {
    void* data;
    std::size_t size;
  };
  std::mutex mutex_;
  Entry kept_[kMaxBlocks] = {};
  int count_ = 0;
  std::size_t total_ = 0;
};

KeptBlocks& kept_blocks() {
  static KeptBlocks* kept = new KeptBlocks();  // intentionally never destroyed (see above)
  return *kept;
}

}  // namespace

LargeBlock::LargeBlock(std::size_t bytes) {
  if (bytes == 0) return;
  const bool huge = bytes >= kHugePage;
  const std::size_t align = huge ? kHugePage : 64;
  std::size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc wants a multiple
  void* p = huge ? kept_blocks().take(rounded, &rounded) : nullptr;
  if (p == nullptr) {
    p = std::aligned_alloc(align, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Advice only: where transparent huge pages are off it fails harmlessly.
    if (huge) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
  }
  data_ = static_cast<unsigned char*>(p);
  bytes_ = bytes;
  capacity_ = rounded;
}

LargeBlock::~LargeBlock() { release(); }

void LargeBlock::release() noexcept {
  if (data_ != nullptr && !(capacity_ >= kHugePage && kept_blocks().keep(data_, capacity_))) std::free(data_);
  data_ = nullptr;
  bytes_ = capacity_ = 0;
}

}  // namespace na64
