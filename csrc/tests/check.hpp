// Minimal assertion helpers for the C++ tests (no framework needed for ctest).
#pragma once
#include <cstdio>
#include <cstdlib>

#define NA64_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                             \
    }                                                                           \
  } while (0)
