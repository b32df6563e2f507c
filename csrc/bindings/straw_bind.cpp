#include "bindings/bindings.hpp"

namespace na64::py {
void bind_straw(pybind11::module_& m) { (void)m; }
}  // namespace na64::py
