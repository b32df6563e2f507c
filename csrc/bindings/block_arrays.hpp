// numpy arrays over columns that live in one LargeBlock: the block is owned by a capsule,
// which every array of the block references, so it is freed with the last of them.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/large_block.hpp"

namespace na64::py {

// n rows of several columns (element sizes given in order) in one block.
class BlockColumns {
 public:
  BlockColumns(int64_t n, std::initializer_list<std::size_t> element_sizes) {
    std::size_t end = 0;
    for (const std::size_t size : element_sizes) {
      offsets_.push_back(LargeBlock::align_up(end));
      sizes_.push_back(size);
      end = offsets_.back() + static_cast<std::size_t>(n) * size;
    }
    block_ = LargeBlock(end > 0 ? end : 64);  // never null: no offsets from a null pointer
  }
  // Column c as T: T must be of the element size the column was laid out with.
  template <typename T>
  T* column(std::size_t c) const {
    if (sizes_.at(c) != sizeof(T))
      throw Error(concat("column ", c, " holds ", sizes_[c], "-byte elements, not ", sizeof(T)));
    return reinterpret_cast<T*>(block_.data() + offsets_[c]);
  }
  LargeBlock release() { return std::move(block_); }

 private:
  LargeBlock block_;
  std::vector<std::size_t> offsets_, sizes_;
};

inline pybind11::capsule own_block(LargeBlock block) {
  auto* owned = new LargeBlock(std::move(block));
  return pybind11::capsule(owned, [](void* p) { delete static_cast<LargeBlock*>(p); });
}

// A 1-d array of n values at data, kept alive by owner (a new empty array when n is 0).
template <typename T>
pybind11::array_t<T> view(const T* data, int64_t n, const pybind11::capsule& owner) {
  if (n == 0 || data == nullptr) return pybind11::array_t<T>(0);
  return pybind11::array_t<T>(static_cast<pybind11::ssize_t>(n), data, owner);
}

}  // namespace na64::py
