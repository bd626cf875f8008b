#pragma once
// belay::Error travels from the transport up to Lua, where it becomes the
// error table of DESIGN.md. Kinds come from error_kinds.def.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace belay {

enum class Kind {
#define BELAY_ERROR_KIND(id, retryable, when) id,
#include "core/error_kinds.def"
#undef BELAY_ERROR_KIND
};

inline constexpr int kKindCount = 0
#define BELAY_ERROR_KIND(id, retryable, when) +1
#include "core/error_kinds.def"
#undef BELAY_ERROR_KIND
    ;

std::string_view kind_name(Kind kind);
std::optional<Kind> kind_from_name(std::string_view name);
bool retryable_by_default(Kind kind);
std::string_view kind_description(Kind kind);

struct Error {
  Kind kind = Kind::protocol;
  std::string message;
  std::string op;      // what failed: "Runtime.evaluate" in the host, "page:evaluate" in Lua
  nlohmann::json cdp;  // the raw CDP error object, when there is one

  // "kind: message (op)", the form users see and tostring(err) gives in Lua.
  std::string to_string() const;
};

// The timeout error of a deadline that passed: "WHAT timed out after N ms".
Error deadline_passed(std::string_view what, uint64_t timeout_ms, std::string op = {});

// A value or an Error: the host's error channel (no exceptions cross the
// libuv or Lua boundaries).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  Error& error() { return std::get<1>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace belay
