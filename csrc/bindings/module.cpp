#include <pybind11/pybind11.h>

#include "bindings/bindings.hpp"
#include "common/build_info.hpp"
#include "common/error.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "na64reco compiled core (C++17): raw decoding, waveform fits, calorimeter and straw reconstruction";
  // Translators are tried newest first: the derived InputError must be registered last.
  py::register_local_exception<na64::Error>(m, "CoreError", PyExc_RuntimeError);
  py::register_local_exception<na64::InputError>(m, "InputError", PyExc_ValueError);
  m.def("build_info", &na64::build_info, "Compiler, build type and sanitizer state of the compiled core.");
  auto raw = m.def_submodule("raw", "Raw DATE/S-Link/MSADC/F1 decoding");
  na64::py::bind_raw(raw);
  auto waveform = m.def_submodule("waveform", "Pulse templates and waveform fits");
  na64::py::bind_waveform(waveform);
  auto calo = m.def_submodule("calo", "Calorimeter cells, clusters and event variables");
  na64::py::bind_calo(calo);
  auto straw = m.def_submodule("straw", "Straw tube drift radii, points and segments");
  na64::py::bind_straw(straw);
}
