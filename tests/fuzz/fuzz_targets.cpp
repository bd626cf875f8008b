#include "fuzz_targets.hpp"

#include <cstdio>
#include <cstdlib>

namespace belay::fuzz {

void invariant_failed(const char* file, int line, const char* what, std::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
  if (!detail.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

}  // namespace belay::fuzz
