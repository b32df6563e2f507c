#pragma once
#include <string>

namespace na64 {
// Compiler, instruction set, build type and sanitizer state of this build, for bug reports.
std::string build_info();
}  // namespace na64
