#include "raw/event_walk.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"
#include "raw/layout.hpp"

namespace na64::raw {

namespace {

// head(pos, size_word, magic_word) reads the first two header words of the event at pos.
template <class Head>
EventWalk walk(std::uint64_t size, Head head) {
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
    std::uint32_t ev_size = 0, magic = 0;
    head(pos, ev_size, magic);
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

}  // namespace

EventWalk walk_events(const std::uint8_t* data, std::uint64_t size) {
  return walk(size, [data](std::uint64_t pos, std::uint32_t& ev_size, std::uint32_t& magic) {
    ev_size = load_word(data + pos + date::kSize);
    magic = load_word(data + pos + date::kMagicWord);
  });
}

EventWalk walk_events_fd(int fd, std::uint64_t size) {
  return walk(size, [fd](std::uint64_t pos, std::uint32_t& ev_size, std::uint32_t& magic) {
    std::uint8_t words[8];
    std::size_t got = 0;
    while (got < sizeof words) {
      const ssize_t r = ::pread(fd, words + got, sizeof words - got, static_cast<off_t>(pos + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0)
        throw InputError(concat("cannot read the event header at byte ", pos, ": ",
                                r < 0 ? std::strerror(errno) : "the file is shorter than when it was sized"));
      got += static_cast<std::size_t>(r);
    }
    ev_size = load_word(words + date::kSize);
    magic = load_word(words + date::kMagicWord);
  });
}

}  // namespace na64::raw
