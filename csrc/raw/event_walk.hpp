// The job planner's pass over a raw file: where each whole DATE event starts and how long it
// is, from the size and magic words alone (no payload decoding), and why the walk stopped
// early if it did. A compiled loop: one header per event, so planning a run costs a page
// touch per event instead of an interpreter round per event.
#pragma once
#include <cstdint>
#include <vector>

namespace na64::raw {

enum class WalkStop : int {
  kClean = 0,             // every byte belongs to a whole event
  kTruncatedHeader = 1,   // fewer bytes left than a DATE header
  kBadMagic = 2,          // value: the word found where the magic belongs
  kBadSize = 3,           // value: the size word (below the header or not a multiple of 4)
  kTruncatedEvent = 4,    // value: the size word, running past the end of the data
};

struct EventWalk {
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint32_t> sizes;
  std::uint64_t stop_offset = 0;  // first byte not covered by a whole event
  WalkStop stop = WalkStop::kClean;
  std::uint32_t value = 0;  // the offending word, where the stop has one
};

EventWalk walk_events(const std::uint8_t* data, std::uint64_t size);

// The same walk over the first `size` bytes of an open file, reading each event's first two
// words with pread: a few system calls per event instead of faulting in every page of a
// mapping (the planner runs before any chunk, on one core). InputError when a read fails.
EventWalk walk_events_fd(int fd, std::uint64_t size);

}  // namespace na64::raw
