#include "repl/repl_completion.hpp"

#include "vm/readonly.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace belay::lua {
namespace {

const char* const kKeywords[] = {"and",   "break", "do",       "else", "elseif", "end",
                                 "false", "for",   "function", "goto", "if",     "in",
                                 "local", "nil",   "not",      "or",   "repeat", "return",
                                 "then",  "true",  "until",    "while"};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The table whose fields a value offers: a table itself (the original behind
// a read-only proxy), or a userdata's or table's metatable __index table.
// Pushes it and returns true, or pushes nothing.
bool push_field_source(lua_State* L, int idx, bool via_metatable) {
  idx = lua_absindex(L, idx);
  const bool readonly = is_readonly(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE && !readonly && !via_metatable) {
    lua_pushvalue(L, idx);
    return true;
  }
  if (lua_getmetatable(L, idx) == 0) return false;
  lua_pushliteral(L, "__index");
  lua_rawget(L, -2);
  lua_remove(L, -2);
  if (lua_type(L, -1) == LUA_TTABLE) return true;
  lua_pop(L, 1);
  return false;
}

// Adds `prefix`-matching name keys of the table at `t` (functions only if
// `methods`).
void collect(lua_State* L, int t, std::string_view prefix, bool methods,
             std::set<std::string>* out) {
  t = lua_absindex(L, t);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && (!methods || lua_isfunction(L, -1))) {
      size_t len = 0;
      const char* key = lua_tolstring(L, -2, &len);
      std::string_view name(key, len);
      const bool name_like = !name.empty() && std::all_of(name.begin(), name.end(), is_name_char) &&
                             std::isdigit(static_cast<unsigned char>(name[0])) == 0;
      if (name_like && name.substr(0, prefix.size()) == prefix && name.compare(0, 2, "__") != 0) {
        out->emplace(name);
      }
    }
    lua_pop(L, 1);
  }
}

// Every field name `value` offers: its own, then its metatable's (methods).
void collect_fields(lua_State* L, int value, std::string_view prefix, bool methods,
                    std::set<std::string>* out) {
  value = lua_absindex(L, value);
  if (push_field_source(L, value, false)) {
    collect(L, -1, prefix, methods, out);
    lua_pop(L, 1);
  }
  if (lua_type(L, value) == LUA_TTABLE && !is_readonly(L, value) &&
      push_field_source(L, value, true)) {
    collect(L, -1, prefix, methods, out);
    lua_pop(L, 1);
  }
}

// Pushes the value `path` (names joined by '.') names, starting in the env;
// false (nothing pushed) if some part is missing.
bool push_path(lua_State* L, int env_idx, std::string_view path) {
  lua_pushvalue(L, env_idx);
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string name(
        path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (!push_field_source(L, -1, false)) {
      lua_pop(L, 1);
      return false;
    }
    lua_pushlstring(L, name.data(), name.size());
    lua_rawget(L, -2);  // raw: the env's __index raises for forbidden names
    lua_remove(L, -2);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

}  // namespace

std::vector<std::string> completion_candidates(lua_State* L, int env_idx, std::string_view word) {
  env_idx = lua_absindex(L, env_idx);
  if (lua_checkstack(L, 10) == 0) return {};
  const size_t sep = word.find_last_of(".:");
  std::set<std::string> names;
  std::string head;
  if (sep == std::string_view::npos) {
    collect(L, env_idx, word, false, &names);
    for (const char* k : kKeywords) {
      if (std::string_view(k).substr(0, word.size()) == word) names.emplace(k);
    }
  } else {
    const std::string_view base = word.substr(0, sep);
    // A ':' may only end the path (`a.b:m`), and every part is a name.
    if (base.find(':') != std::string_view::npos || base.empty() ||
        !std::all_of(base.begin(), base.end(),
                     [](char c) { return is_name_char(c) || c == '.'; })) {
      return {};
    }
    if (!push_path(L, env_idx, base)) return {};
    collect_fields(L, -1, word.substr(sep + 1), word[sep] == ':', &names);
    lua_pop(L, 1);
    head = std::string(word.substr(0, sep + 1));
  }
  std::vector<std::string> out;
  for (const auto& name : names) out.push_back(head + name);
  return out;
}

}  // namespace belay::lua
