#include "vm/json_value.hpp"

#include "core/json_text.hpp"
#include "vm/error_value.hpp"

#include <cmath>
#include <string>

namespace belay::lua {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 200;
const char kNullKey = 0;  // the sentinel's identity

bool is_null_sentinel(lua_State* L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &kNullKey;
}

// A table is an array when its keys are exactly 1..n.
bool is_sequence(lua_State* L, int idx, lua_Integer* length) {
  lua_Integer count = 0;
  lua_Integer max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER || lua_isinteger(L, -1) == 0) {
      lua_pop(L, 1);
      return false;
    }
    const lua_Integer k = lua_tointeger(L, -1);
    if (k < 1) {
      lua_pop(L, 1);
      return false;
    }
    ++count;
    if (k > max) max = k;
  }
  *length = count;
  return count > 0 && max == count;
}

std::string key_text(lua_State* L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, idx, &len);
    return std::string(s, len);
  }
  if (lua_isinteger(L, idx) != 0) return std::to_string(lua_tointeger(L, idx));
  return std::to_string(lua_tonumber(L, idx));
}

Result<json> convert(lua_State* L, int idx, int depth, const std::string& path);

Result<json> convert_table(lua_State* L, int idx, int depth, const std::string& path) {
  if (depth > kMaxDepth) {
    return Error{Kind::script,
                 "value nested deeper than 200 levels (a cycle?) at " + path,
                 "belay.json",
                 {}};
  }
  if (lua_checkstack(L, 4) == 0) return Error{Kind::script, "out of stack", "belay.json", {}};
  lua_Integer length = 0;
  if (is_sequence(L, idx, &length)) {
    json array = json::array();
    for (lua_Integer i = 1; i <= length; ++i) {
      lua_rawgeti(L, idx, i);
      auto item = convert(L, lua_gettop(L), depth + 1, path + "[" + std::to_string(i) + "]");
      lua_pop(L, 1);
      if (!item) return item;
      array.push_back(std::move(item.value()));
    }
    return array;
  }
  json object = json::object();
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const int key_type = lua_type(L, -2);
    if (key_type != LUA_TSTRING && key_type != LUA_TNUMBER) {
      lua_pop(L, 2);
      return Error{Kind::script,
                   std::string("table key of type ") + lua_typename(L, key_type) +
                       " cannot be a JSON key, at " + path,
                   "belay.json",
                   {}};
    }
    std::string key = key_text(L, -2);
    auto item = convert(L, lua_gettop(L), depth + 1, path + "." + key);
    lua_pop(L, 1);
    if (!item) {
      lua_pop(L, 1);
      return item;
    }
    object[key] = std::move(item.value());
  }
  return object;
}

Result<json> convert(lua_State* L, int idx, int depth, const std::string& path) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      return json(nullptr);
    case LUA_TBOOLEAN:
      return json(lua_toboolean(L, idx) != 0);
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx) != 0) return json(static_cast<int64_t>(lua_tointeger(L, idx)));
      return json(lua_tonumber(L, idx));
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      return json(std::string(s, len));
    }
    case LUA_TTABLE:
      return convert_table(L, idx, depth, path);
    case LUA_TLIGHTUSERDATA:
      if (is_null_sentinel(L, idx)) return json(nullptr);
      [[fallthrough]];
    default:
      return Error{
          Kind::script,
          std::string("a ") + luaL_typename(L, idx) + " cannot be converted to JSON, at " + path,
          "belay.json",
          {}};
  }
}

// Recursion bounded as to_json's is: a decoded string nested a million deep
// would otherwise overflow the C stack. Raises from inside the recursion,
// where only references and trivial iterators are alive.
void push_nested(lua_State* L, const json& value, int depth) {
  luaL_checkstack(L, 4, "JSON too deep");
  if (depth > kMaxDepth && value.is_structured()) {
    push_plain_error(L, Kind::script, "JSON nested deeper than 200 levels", "belay.json");
    lua_error(L);
  }
  switch (value.type()) {
    case json::value_t::null:
      push_json_null(L);
      break;
    case json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>() ? 1 : 0);
      break;
    case json::value_t::number_integer:
      lua_pushinteger(L, value.get<int64_t>());
      break;
    case json::value_t::number_unsigned: {
      const auto u = value.get<uint64_t>();
      if (u <= static_cast<uint64_t>(LUA_MAXINTEGER)) {
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(u));
      }
      break;
    }
    case json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      break;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      break;
    }
    case json::value_t::array: {
      lua_createtable(L, static_cast<int>(value.size()), 0);
      lua_Integer i = 1;
      for (const auto& item : value) {
        push_nested(L, item, depth + 1);
        lua_rawseti(L, -2, i++);
      }
      break;
    }
    case json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(value.size()));
      for (auto it = value.begin(); it != value.end(); ++it) {  // items() holds a std::string
        const std::string& key = it.key();
        lua_pushlstring(L, key.data(), key.size());
        push_nested(L, it.value(), depth + 1);
        lua_rawset(L, -3);
      }
      break;
    }
    default:
      lua_pushnil(L);  // binary and discarded values have no Lua form
  }
}

}  // namespace

void push_json_null(lua_State* L) { lua_pushlightuserdata(L, const_cast<char*>(&kNullKey)); }

bool is_json_null(lua_State* L, int idx) { return is_null_sentinel(L, idx); }

void push_json(lua_State* L, const json& value) { push_nested(L, value, 0); }

Result<json> to_json(lua_State* L, int idx) { return convert(L, lua_absindex(L, idx), 0, "$"); }

}  // namespace belay::lua
