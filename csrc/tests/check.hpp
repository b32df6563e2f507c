// Minimal assertion helpers for the C++ tests (no framework needed for ctest).
#pragma once
#include <cstdio>
#include <cstdlib>

#include "common/error.hpp"

#define NA64_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                             \
    }                                                                           \
  } while (0)

// Whether f() throws na64::InputError (the error the core raises for bad input).
template <typename F>
bool throws_input_error(F&& f) {
  try {
    f();
  } catch (const na64::InputError&) {
    return true;
  }
  return false;
}
