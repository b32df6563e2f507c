// One binding function per concern; each lives in its own file in this folder.
#pragma once
#include <pybind11/pybind11.h>

namespace na64::py {
void bind_raw(pybind11::module_& m);
void bind_waveform(pybind11::module_& m);
void bind_calo(pybind11::module_& m);
void bind_straw(pybind11::module_& m);
void bind_sim(pybind11::module_& m);
}  // namespace na64::py
