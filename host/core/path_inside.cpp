#include "core/path_inside.hpp"

#include <filesystem>

namespace belay {
namespace fs = std::filesystem;

namespace {

// weakly_canonical follows the symlinks of the part that exists and
// resolves `..` lexically in the rest, which does not exist (yet).
std::optional<fs::path> resolved(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) return std::nullopt;
  return out;
}

bool is_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> resolve_inside(const std::string& path,
                                          const std::vector<std::string>& roots) {
  auto target = resolved(path);
  if (!target) return std::nullopt;
  for (const auto& root : roots) {
    auto base = resolved(root);
    if (base && is_within(*target, *base)) return target->string();
  }
  return std::nullopt;
}

}  // namespace belay
