#include "raw/event_walk.hpp"

#include "raw/layout.hpp"

namespace na64::raw {

EventWalk walk_events(const std::uint8_t* data, std::uint64_t size) {
  EventWalk w;
  // Events of a real run are several kB: a first guess that avoids most regrowth.
  w.offsets.reserve(static_cast<std::size_t>(size / 4096 + 16));
  w.sizes.reserve(static_cast<std::size_t>(size / 4096 + 16));
  std::uint64_t pos = 0;
  while (pos < size) {
    if (size - pos < date::kHeaderBytes) {
      w.stop = WalkStop::kTruncatedHeader;
      break;
    }
    const std::uint32_t ev_size = load_word(data + pos + date::kSize);
    const std::uint32_t magic = load_word(data + pos + date::kMagicWord);
    if (magic != date::kMagic) {
      w.stop = WalkStop::kBadMagic;
      w.value = magic;
      break;
    }
    if (ev_size < date::kHeaderBytes || ev_size % 4 != 0) {
      w.stop = WalkStop::kBadSize;
      w.value = ev_size;
      break;
    }
    if (ev_size > size - pos) {
      w.stop = WalkStop::kTruncatedEvent;
      w.value = ev_size;
      break;
    }
    w.offsets.push_back(pos);
    w.sizes.push_back(ev_size);
    pos += ev_size;
  }
  w.stop_offset = pos;
  return w;
}

}  // namespace na64::raw
