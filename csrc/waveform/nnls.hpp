// Non-negative least squares in Gram form (Lawson-Hanson active set): minimise
// |y - A x|^2 over x >= 0 given G = A^T A and b = A^T y. Atoms enter only while their
// normalised correlation with the residual exceeds `tolerance` (in noise sigmas), so noise
// does not fill the active set; the active set is capped at max_active.
#pragma once
#include "waveform/phase_tables.hpp"

namespace na64::waveform {

constexpr int kMaxActive = 20;

struct NnlsResult {
  int nactive = 0;
  int index[kMaxActive];
  double value[kMaxActive];
};

// G and the atom norms come from dict (rows of a lazy dictionary are computed as atoms enter
// the active set). w: scratch of natoms doubles. Never allocates.
void nnls_gram(const Dictionary& dict, const double* b, double tolerance, int max_active, double* w,
               NnlsResult& out);

}  // namespace na64::waveform
