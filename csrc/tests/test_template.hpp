// The pulse shape the C++ waveform tests fit: a calorimeter-like pulse (cubic rise over ~9 ns,
// exponential tail of 42 ns), tabulated every 0.5 ns.
#pragma once
#include <cmath>
#include <vector>

#include "waveform/pulse_template.hpp"

inline na64::waveform::PulseTemplate make_test_template() {
  std::vector<double> t, v;
  for (double x = 0.0; x <= 420.0; x += 0.5) {
    t.push_back(x);
    v.push_back(std::pow(1.0 - std::exp(-x / 9.0), 3) * std::exp(-x / 42.0));
  }
  return na64::waveform::PulseTemplate(t, v);
}
