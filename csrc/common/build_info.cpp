#include "common/build_info.hpp"

namespace na64 {

std::string build_info() {
  std::string info = "compiler ";
#if defined(__clang__)
  info += "clang " __clang_version__;
#elif defined(__GNUC__)
  info += "gcc " __VERSION__;
#else
  info += "unknown";
#endif
#if defined(NA64RECO_ARCH_NAME)
  info += ", instruction set " NA64RECO_ARCH_NAME;
#endif
#if defined(NDEBUG)
  info += ", optimised";
#else
  info += ", debug";
#endif
#if defined(__SANITIZE_ADDRESS__)
  info += ", address sanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  info += ", address sanitizer";
#endif
#endif
  return info;
}

}  // namespace na64
