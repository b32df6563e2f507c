// LargeBlock alignment and PulseColumns: growth keeps every pulse, append keeps order, moves
// and release_storage leave the source empty and the columns where they were.
#include <cstdint>
#include <utility>

#include "common/large_block.hpp"
#include "tests/check.hpp"
#include "waveform/pulse_columns.hpp"

using na64::LargeBlock;
using na64::waveform::PulseColumns;

namespace {

void push(PulseColumns& c, int64_t i) {
  const double x = static_cast<double>(i);
  c.push_back(i, x, x + 0.5, x + 0.25, x + 0.125, i % 3 == 0);
}

bool holds(const PulseColumns& c, int64_t from, int64_t count) {
  for (int64_t j = 0; j < count; ++j) {
    const int64_t i = from + j;
    const double x = static_cast<double>(i);
    const auto k = static_cast<std::size_t>(j);
    if (c.wave()[k] != i || c.amplitude()[k] != x || c.time_ns()[k] != x + 0.5 || c.amplitude_err()[k] != x + 0.25 ||
        c.time_err()[k] != x + 0.125 || c.in_time()[k] != (i % 3 == 0))
      return false;
  }
  return true;
}

}  // namespace

int main() {
  for (const std::size_t bytes : {std::size_t{1}, std::size_t{100}, std::size_t{3} << 20}) {
    const LargeBlock b(bytes);
    NA64_CHECK(b.data() != nullptr && b.size() == bytes);
    const auto align = bytes >= (std::size_t{2} << 20) ? (std::size_t{2} << 20) : 64;
    NA64_CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % align == 0);
    b.data()[bytes - 1] = 1;  // the whole size is usable
  }
  NA64_CHECK(LargeBlock(0).data() == nullptr);
  NA64_CHECK(LargeBlock::align_up(0) == 0 && LargeBlock::align_up(1) == 64 && LargeBlock::align_up(64) == 64);

  PulseColumns a;
  NA64_CHECK(a.size() == 0 && a.capacity() == 0);
  for (int64_t i = 0; i < 100000; ++i) push(a, i);  // grows from nothing, many times, into the large path
  NA64_CHECK(a.size() == 100000 && holds(a, 0, 100000));
  const auto* amp = reinterpret_cast<std::uintptr_t>(a.amplitude()) % 64 == 0 ? a.amplitude() : nullptr;
  NA64_CHECK(amp != nullptr);  // columns start on cache lines

  PulseColumns b;
  b.reserve(10);
  for (int64_t i = 100000; i < 100010; ++i) push(b, i);
  a.append(b);
  NA64_CHECK(a.size() == 100010 && holds(a, 0, 100010));
  a.append(PulseColumns());
  NA64_CHECK(a.size() == 100010);

  PulseColumns moved(std::move(a));
  NA64_CHECK(a.size() == 0 && a.capacity() == 0 && a.wave() == nullptr);
  NA64_CHECK(moved.size() == 100010 && holds(moved, 0, 100010));
  const double* before = moved.amplitude();
  const std::size_t n = moved.size();
  LargeBlock storage = moved.release_storage();
  NA64_CHECK(moved.size() == 0 && moved.amplitude() == nullptr);
  NA64_CHECK(storage.data() != nullptr && before[n - 1] == static_cast<double>(n - 1));  // columns stay put
  push(moved, 7);  // usable again after release
  NA64_CHECK(moved.size() == 1 && holds(moved, 7, 1));
  moved.clear();
  NA64_CHECK(moved.size() == 0 && moved.capacity() > 0);
  return 0;
}
