#include "core/error.hpp"

#include <array>

namespace belay {
namespace {

struct KindInfo {
  std::string_view name;
  bool retryable;
  std::string_view when;
};

constexpr std::array<KindInfo, kKindCount> kKinds = {{
#define BELAY_ERROR_KIND(id, retryable, when) {#id, retryable, when},
#include "core/error_kinds.def"
#undef BELAY_ERROR_KIND
}};

}  // namespace

Error deadline_passed(std::string_view what, uint64_t timeout_ms, std::string op) {
  return Error{Kind::timeout,
               std::string(what) + " timed out after " + std::to_string(timeout_ms) + " ms",
               std::move(op),
               {}};
}

std::string_view kind_name(Kind kind) { return kKinds[static_cast<size_t>(kind)].name; }

bool retryable_by_default(Kind kind) { return kKinds[static_cast<size_t>(kind)].retryable; }

std::string_view kind_description(Kind kind) { return kKinds[static_cast<size_t>(kind)].when; }

std::optional<Kind> kind_from_name(std::string_view name) {
  for (size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i].name == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::string Error::to_string() const {
  std::string out(kind_name(kind));
  out += ": ";
  out += message;
  if (!op.empty()) {
    out += " (";
    out += op;
    out += ")";
  }
  return out;
}

}  // namespace belay
