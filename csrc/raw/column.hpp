// A growable, uninitialised buffer of trivially copyable values whose storage can be
// handed over (to a numpy array) without a copy. std::vector would zero-fill on resize
// and cannot give up its allocation. Storage comes from the buffer pool.
#pragma once
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "raw/buffer_pool.hpp"

namespace na64::raw {

template <typename T>
class Column {
  static_assert(std::is_trivially_copyable_v<T>, "Column holds plain values only");

 public:
  Column() = default;
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;
  Column(Column&& other) noexcept { swap(other); }
  Column& operator=(Column&& other) noexcept {
    Column tmp(std::move(other));
    swap(tmp);
    return *this;
  }
  ~Column() { pool_release(data_); }

  size_t size() const { return size_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  // Makes room for `total` values without changing size().
  void reserve(size_t total) {
    if (total > capacity_) grow(total);
  }
  void push_back(T value) {
    if (size_ == capacity_) grow(size_ + 1);
    data_[size_++] = value;
  }
  // Only after reserve(): the values up to `n` must have been written.
  void set_size(size_t n) { size_ = n; }

  // Gives up the allocation (return it with pool_release); the column is left empty.
  T* release() {
    T* p = data_;
    data_ = nullptr;
    size_ = capacity_ = 0;
    return p;
  }

 private:
  void grow(size_t total) {
    size_t cap = capacity_ ? capacity_ * 2 : 256;
    if (cap < total) cap = total;
    T* p = static_cast<T*>(pool_acquire(cap * sizeof(T)));
    if (size_) std::memcpy(p, data_, size_ * sizeof(T));
    pool_release(data_);
    data_ = p;
    capacity_ = pool_capacity(p) / sizeof(T);
  }
  void swap(Column& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace na64::raw
