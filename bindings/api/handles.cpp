// What every handle type shares: a locked metatable of methods, and the
// argument readers of page:* and browser:* alike.

#include "api/handles.hpp"

#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <algorithm>
#include <regex>
#include <string>
#include <utility>

namespace belay::lua {

void register_handle_type(lua_State* L, const char* metatable, const luaL_Reg* methods,
                          lua_CFunction gc, lua_CFunction tostring) {
  luaL_newmetatable(L, metatable);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

void register_locked_metatable(lua_State* L, const char* metatable, lua_CFunction index,
                               lua_CFunction gc, lua_CFunction tostring) {
  luaL_newmetatable(L, metatable);
  const std::pair<const char*, lua_CFunction> methods[] = {
      {"__index", index}, {"__gc", gc}, {"__tostring", tostring}};
  for (const auto& [field, fn] : methods) {
    if (fn == nullptr) continue;
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, field);
  }
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

bool cdp_params(lua_State* L, int idx, const char* op, nlohmann::json* out) {
  *out = nlohmann::json::object();
  if (lua_isnoneornil(L, idx)) return true;
  Result<nlohmann::json> converted = to_json(L, idx);
  if (!converted || !converted.value().is_object()) {
    push_error(
        L, Error{Kind::script, std::string(op) + " params must be a table of JSON values", op, {}});
    return false;
  }
  *out = std::move(converted.value());
  return true;
}

// Only the head is searched: std::regex recurses once per character, and a
// long source (a 100 KB object literal in parentheses) would overflow the stack.
bool looks_like_function(const char* source, size_t size) {
  static const std::regex function_head(
      R"(^\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>))");
  constexpr size_t kHeadBytes = 1024;
  return std::regex_search(source, source + std::min(size, kHeadBytes), function_head);
}

}  // namespace belay::lua
