// Recycles the large output buffers of the decoder. Each batch hands its columns to numpy;
// when numpy frees them they come back here instead of to the system, so the next batch
// writes into pages that are already mapped. Without this, page faults on fresh memory
// cost more than the decoding itself (the output is as large as the input).
#pragma once
#include <cstddef>

namespace na64::raw {

// A block of at least `bytes` usable bytes (64-byte aligned); its capacity is stored in
// a header before it. Never returns null (throws std::bad_alloc).
void* pool_acquire(size_t bytes);
// Usable capacity of a block from pool_acquire.
size_t pool_capacity(const void* block);
// Gives a block back (kept for reuse while the pool holds less than its limit).
void pool_release(void* block);
// Bytes currently held for reuse.
size_t pool_held_bytes();

}  // namespace na64::raw
