// Differential: the sandbox's step-counted string.find/match/gmatch/gsub
// (bindings/lua_pattern.cpp) against stock Lua 5.4's on the same subject,
// pattern, init and replacement. Results and error messages must agree. An
// input whose matching runs past a small step budget in the sandbox is
// skipped for the comparison: the stock matcher would backtrack just as
// long, and the budget stopping it is the point of the sandbox's version.
//
// Input: byte 0 picks the function, byte 1 the init (signed, 0 = none),
// byte 2 the pattern's length, then the pattern, then (gsub) a length byte
// and the replacement, then the subject.

#include "fuzz_targets.hpp"

#include "vm/error_value.hpp"
#include "vm/lua_state.hpp"
#include "vm/sandbox.hpp"

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include <regex>
#include <string>

namespace belay::fuzz {
namespace {

constexpr uint64_t kStepBudget = 2'000'000;
constexpr const char* kNames[] = {"find", "match", "gmatch", "gsub", "find"};

// Runs string[name](subject, pattern, init, extra) and describes every
// result, or the error. gmatch: every iteration's captures, up to 20.
constexpr const char* kCall = R"lua(
local name, s, p, init, extra = ...
local function show(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) .. ":" .. (type(v) == "string" and ("%q"):format(v) or tostring(v))
  end
  return table.concat(parts, ",")
end
if name == "gmatch" then
  local out = {}
  for a, b, c in string.gmatch(s, p, init) do
    out[#out + 1] = show(a, b, c)
    if #out >= 20 then break end
  end
  return table.concat(out, ";")
end
return show(string[name](s, p, init, extra))
)lua";

struct Call {
  const char* name = "find";
  lua_Integer init = 0;
  bool plain = false;
  std::string pattern;
  std::string replacement;
  std::string subject;
};

void push_arguments(lua_State* L, const Call& call) {
  lua_pushstring(L, call.name);
  lua_pushlstring(L, call.subject.data(), call.subject.size());
  lua_pushlstring(L, call.pattern.data(), call.pattern.size());
  if (call.init == 0) {
    lua_pushnil(L);
  } else {
    lua_pushinteger(L, call.init);
  }
  if (call.plain) {
    lua_pushboolean(L, 1);
  } else if (std::string(call.name) == "gsub") {
    lua_pushlstring(L, call.replacement.data(), call.replacement.size());
  } else {
    lua_pushnil(L);
  }
}

std::string without_function_names(const std::string& text) {
  static const std::regex name(R"(to '[^']*')");
  return std::regex_replace(text, name, "to '?'");
}

// "ok <results>" or "error <message>"; nullopt past the step budget.
std::optional<std::string> run_counted(const Call& call) {
  static lua::LuaState* lua = [] {
    lua::Limits limits;
    limits.slice_instructions = kStepBudget;
    return new lua::LuaState(limits);
  }();
  lua_State* task = lua->new_task();
  std::optional<std::string> out;
  if (lua::load_sandboxed(task, kCall, "=call") != LUA_OK) {
    FUZZ_CHECK_MSG(false, lua::to_error(task, -1).to_string());
  }
  push_arguments(task, call);
  const lua::ResumeResult resumed = lua->resume(task, 5);
  if (resumed.status == lua::ResumeStatus::finished) {
    out = std::string("ok ") + lua_tostring(task, -1);
  } else {
    const Error error = lua::to_error(task, -1);
    if (error.kind != Kind::sandbox) out = "error " + without_function_names(error.message);
  }
  lua->end_task(task);
  return out;
}

std::string run_stock(const Call& call) {
  static lua_State* L = [] {
    lua_State* state = luaL_newstate();
    luaL_openlibs(state);
    return state;
  }();
  lua_settop(L, 0);
  if (luaL_loadbuffer(L, kCall, std::char_traits<char>::length(kCall), "=call") != LUA_OK) {
    FUZZ_CHECK_MSG(false, lua_tostring(L, -1));
  }
  push_arguments(L, call);
  if (lua_pcall(L, 5, 1, 0) != LUA_OK) {
    return "error " + without_function_names(lua_tostring(L, -1));
  }
  return std::string("ok ") + lua_tostring(L, -1);
}

}  // namespace

int fuzz_lua_pattern(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  Call call;
  const uint8_t which = in.byte() % 5;
  call.name = kNames[which];
  call.plain = which == 4;
  call.init = static_cast<int8_t>(in.byte());
  call.pattern = std::string(in.bytes(in.byte() % 48));
  if (which == 3) call.replacement = std::string(in.bytes(in.byte() % 16));
  call.subject = std::string(in.bytes(256));
  const auto counted = run_counted(call);
  if (!counted) return 0;  // stopped by the step budget: see above
  const std::string stock = run_stock(call);
  FUZZ_CHECK_MSG(*counted == stock, "sandbox: " + *counted + "\nstock:   " + stock);
  return 0;
}

}  // namespace belay::fuzz
