#include "raw/buffer_pool.hpp"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

namespace na64::raw {

namespace {

constexpr size_t kHeader = 64;
// Only large blocks are worth keeping; malloc recycles small ones well by itself.
constexpr size_t kMinPooled = size_t{1} << 16;
constexpr size_t kMaxHeld = size_t{256} << 20;

struct Pool {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;  // capacity -> base
  size_t held = 0;
};

Pool& pool() {
  // Never destroyed: numpy may free arrays during interpreter shutdown, after static
  // destructors would have run.
  static Pool* p = new Pool();
  return *p;
}

void* base_of(const void* block) { return static_cast<char*>(const_cast<void*>(block)) - kHeader; }

}  // namespace

void* pool_acquire(size_t bytes) {
  if (bytes >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    auto it = p.free_blocks.lower_bound(bytes);
    // Accept a block at most twice the request, so small tables do not pin big blocks.
    if (it != p.free_blocks.end() && it->first <= 2 * bytes) {
      void* base = it->second;
      p.held -= it->first;
      p.free_blocks.erase(it);
      return static_cast<char*>(base) + kHeader;
    }
  }
  void* base = std::aligned_alloc(kHeader, kHeader + ((bytes + kHeader - 1) / kHeader) * kHeader);
  if (!base) throw std::bad_alloc();
  const size_t capacity = ((bytes + kHeader - 1) / kHeader) * kHeader;
  std::memcpy(base, &capacity, sizeof capacity);
  return static_cast<char*>(base) + kHeader;
}

size_t pool_capacity(const void* block) {
  size_t capacity;
  std::memcpy(&capacity, base_of(block), sizeof capacity);
  return capacity;
}

void pool_release(void* block) {
  if (!block) return;
  void* base = base_of(block);
  const size_t capacity = pool_capacity(block);
  if (capacity >= kMinPooled) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.held + capacity <= kMaxHeld) {
      p.free_blocks.emplace(capacity, base);
      p.held += capacity;
      return;
    }
  }
  std::free(base);
}

size_t pool_held_bytes() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.held;
}

}  // namespace na64::raw
