// numpy helpers shared by the calo and straw bindings: zero-copy hand-over of result
// vectors and checked access to caller arrays.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace na64::py {

// Moves a vector into a numpy array that owns it (no copy of the data).
template <typename T>
pybind11::array_t<T> to_numpy(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  pybind11::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return pybind11::array_t<T>({static_cast<pybind11::ssize_t>(owned->size())}, {sizeof(T)}, owned->data(),
                              free_when_done);
}

template <typename T>
using carray = pybind11::array_t<T, pybind11::array::c_style | pybind11::array::forcecast>;

template <typename T>
void require_length(const carray<T>& a, pybind11::ssize_t n, const char* what) {
  if (a.ndim() != 1 || a.shape(0) != n)
    throw InputError(concat(what, ": expected a 1-d array of length ", n, ", got shape (",
                            a.ndim() ? a.shape(0) : 0, a.ndim() > 1 ? ", ..." : "", ") with ndim ", a.ndim()));
}

}  // namespace na64::py
