#include "support/lua_matchers.hpp"

#include <optional>

namespace belay::test {

using nlohmann::json;

const char* const kCatch = R"LUA(
local function catch(fn, ...)
  local t0 = belay.now()
  local ok, err = pcall(fn, ...)
  local ms = belay.now() - t0
  if ok then return { ok = true, ms = ms } end
  if type(err) ~= "table" then return { ok = false, plain = tostring(err), ms = ms } end
  return { ok = false, kind = err.kind, message = err.message, op = err.op,
           retryable = err.retryable, str = tostring(err),
           want = tostring(err.kind) .. ": " .. tostring(err.message) ..
                  " (" .. tostring(err.op) .. ")",
           locked = getmetatable(err) == "locked", has_cdp = err.cdp ~= nil, ms = ms }
end
)LUA";

std::string with_catch(const std::string& body) { return kCatch + body; }

namespace {

bool op_matches(const std::string& got, const std::string& want) {
  if (want.empty()) return !got.empty();
  if (want.back() == '*') {
    const std::string prefix = want.substr(0, want.size() - 1);
    return !got.empty() && got.compare(0, prefix.size(), prefix) == 0;
  }
  return got == want;
}

}  // namespace

::testing::AssertionResult LuaError(const json& e, std::initializer_list<Kind> kinds,
                                    const std::string& op, const std::string& message_part) {
  if (!e.is_object()) return ::testing::AssertionFailure() << "not a catch() result: " << e;
  if (e.value("ok", true)) return ::testing::AssertionFailure() << "no error was raised: " << e;
  if (e.contains("plain")) {
    return ::testing::AssertionFailure() << "a plain Lua error, not an error table: " << e;
  }
  const std::string got = e.value("kind", "");
  std::optional<Kind> matched;
  std::string wanted;
  for (Kind k : kinds) {
    if (got == kind_name(k)) matched = k;
    wanted += (wanted.empty() ? "" : " or ") + std::string(kind_name(k));
  }
  if (!matched) {
    return ::testing::AssertionFailure()
           << "kind " << (got.empty() ? "?" : got) << ", want " << wanted << ": " << e;
  }
  if (!op_matches(e.value("op", ""), op)) {
    return ::testing::AssertionFailure()
           << "op " << e.value("op", "?") << ", want " << (op.empty() ? "any op" : op) << ": " << e;
  }
  if (e.value("retryable", !retryable_by_default(*matched)) != retryable_by_default(*matched)) {
    return ::testing::AssertionFailure() << "retryable is wrong for " << got << ": " << e;
  }
  const std::string message = e.value("message", "");
  if (message.empty() || message.find(message_part) == std::string::npos) {
    return ::testing::AssertionFailure() << "message lacks '" << message_part << "': " << e;
  }
  if (e.value("str", "") != e.value("want", "-")) {
    return ::testing::AssertionFailure() << "tostring(err) is not 'kind: message (op)': " << e;
  }
  if (!e.value("locked", false)) {
    return ::testing::AssertionFailure()
           << "the error table lacks the locked error metatable: " << e;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult HostError(const Result<json>& r, Kind kind, const std::string& op,
                                     const std::string& message_part) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded with " << r.value();
  const Error& e = r.error();
  if (e.kind != kind || e.op != op || e.message.find(message_part) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "got " << e.to_string() << "; want kind " << kind_name(kind) << ", op " << op
           << ", message containing '" << message_part << "'";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace belay::test
