// Exceptions of the C++ core. The bindings map InputError to ValueError and every other
// na64::Error to RuntimeError, so messages must carry their own got/expected context.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace na64 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad arguments or configuration handed to the core by its caller.
class InputError : public Error {
 public:
  using Error::Error;
};

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

}  // namespace na64
