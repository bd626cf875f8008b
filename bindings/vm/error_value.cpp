#include "vm/error_value.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

namespace belay::lua {
namespace {

constexpr int kMaxCdpDepth = 32;

// push_json runs in protected mode and may longjmp out of its own frames;
// that is only sound because no live object there has a destructor to skip.
static_assert(std::is_trivially_destructible_v<nlohmann::json::const_iterator>);

void push_json(lua_State* L, const nlohmann::json& value, int depth);

void push_json_container(lua_State* L, const nlohmann::json& value, int depth) {
  const bool is_array = value.is_array();
  lua_createtable(L, is_array ? static_cast<int>(value.size()) : 0,
                  is_array ? 0 : static_cast<int>(value.size()));
  lua_Integer index = 0;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (is_array) {
      push_json(L, *it, depth + 1);
      lua_rawseti(L, -2, ++index);
    } else {
      lua_pushlstring(L, it.key().data(), it.key().size());
      push_json(L, it.value(), depth + 1);
      lua_rawset(L, -3);
    }
  }
}

// Minimal json -> Lua for err.cdp; null becomes nil.
void push_json(lua_State* L, const nlohmann::json& value, int depth) {
  luaL_checkstack(L, 3, "cdp error too deep");
  if (depth > kMaxCdpDepth) {
    lua_pushnil(L);
  } else if (value.is_object() || value.is_array()) {
    push_json_container(L, value, depth);
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    lua_pushlstring(L, text.data(), text.size());
  } else if (value.is_boolean()) {
    lua_pushboolean(L, value.get<bool>());
  } else if (value.is_number_integer() && !value.is_number_unsigned()) {
    lua_pushinteger(L, value.get<lua_Integer>());
  } else if (value.is_number()) {
    lua_pushnumber(L, value.get<lua_Number>());
  } else {
    lua_pushnil(L);
  }
}

int push_error_protected(lua_State* L) {
  const auto* error = static_cast<const belay::Error*>(lua_touserdata(L, 1));
  push_plain_error(L, error->kind, error->message, error->op);
  if (!error->cdp.is_null()) {
    push_json(L, error->cdp, 0);
    lua_setfield(L, -2, "cdp");
  }
  return 1;
}

// Formats a number without lua_tostring, which would convert the stack slot
// in place (and allocate): to_error must neither raise nor disturb lua_next.
std::string number_text(lua_State* L, int idx) {
  if (lua_isinteger(L, idx)) return std::to_string(lua_tointeger(L, idx));
  char text[64];
  std::snprintf(text, sizeof text, LUA_NUMBER_FMT, static_cast<double>(lua_tonumber(L, idx)));
  return text;
}

std::string string_at(lua_State* L, int idx) {
  size_t length = 0;
  const char* text = lua_tolstring(L, idx, &length);
  return std::string(text, length);
}

nlohmann::json json_from_lua(lua_State* L, int idx, int depth);

nlohmann::json json_from_table(lua_State* L, int idx, int depth) {
  const lua_Unsigned length = lua_rawlen(L, idx);
  nlohmann::json object = nlohmann::json::object();
  nlohmann::json array = nlohmann::json::array();
  lua_Unsigned keys = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    ++keys;
    if (lua_type(L, -2) == LUA_TSTRING) {
      object[string_at(L, -2)] = json_from_lua(L, lua_gettop(L), depth + 1);
    } else if (lua_type(L, -2) == LUA_TNUMBER) {
      object[number_text(L, -2)] = json_from_lua(L, lua_gettop(L), depth + 1);
    }
    lua_pop(L, 1);
  }
  if (keys == 0 || keys != length) return object;
  for (lua_Unsigned i = 1; i <= length; ++i) {
    lua_rawgeti(L, idx, static_cast<lua_Integer>(i));
    array.push_back(json_from_lua(L, lua_gettop(L), depth + 1));
    lua_pop(L, 1);
  }
  return array;
}

// Minimal Lua -> json for err.cdp: raw reads only, so it never runs a
// metamethod and never raises.
nlohmann::json json_from_lua(lua_State* L, int idx, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) != 0;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) return static_cast<int64_t>(lua_tointeger(L, idx));
      return static_cast<double>(lua_tonumber(L, idx));
    case LUA_TSTRING:
      return string_at(L, idx);
    case LUA_TTABLE:
      if (depth > kMaxCdpDepth || !lua_checkstack(L, 4)) return nullptr;
      return json_from_table(L, idx, depth);
    default:
      return nullptr;
  }
}

void read_error_field(lua_State* L, const char* key, belay::Error& error) {
  const bool is_string = lua_type(L, -1) == LUA_TSTRING;
  if (std::strcmp(key, "kind") == 0 && is_string) {
    error.kind = kind_from_name(string_at(L, -1)).value_or(belay::Kind::script);
  } else if (std::strcmp(key, "message") == 0 && is_string) {
    error.message = string_at(L, -1);
  } else if (std::strcmp(key, "op") == 0 && is_string) {
    error.op = string_at(L, -1);
  } else if (std::strcmp(key, "cdp") == 0) {
    error.cdp = json_from_lua(L, lua_gettop(L), 0);
  }
}

// Walks the table with lua_next rather than pushing key strings, so reading
// an error allocates nothing inside Lua and cannot raise.
belay::Error error_from_table(lua_State* L, int idx) {
  belay::Error error;
  error.kind = belay::Kind::script;
  if (!lua_checkstack(L, 4)) return error;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) read_error_field(L, lua_tostring(L, -2), error);
    lua_pop(L, 1);
  }
  return error;
}

std::string describe_value(lua_State* L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      return string_at(L, idx);
    case LUA_TNUMBER:
      return number_text(L, idx);
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) ? "true" : "false";
    case LUA_TNIL:
      return "nil";
    default:
      return std::string("(error object is a ") + luaL_typename(L, idx) + " value)";
  }
}

// Leaves the field's text on the stack and returns it. Runs in script
// context (tostring(err)), so a non-string field may use its __tostring.
const char* field_text(lua_State* L, const char* name) {
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "");
  } else if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
    luaL_tolstring(L, -1, nullptr);
    lua_remove(L, -2);
  }
  return lua_tostring(L, -1);
}

int error_tostring(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char* kind = field_text(L, "kind");
  const char* message = field_text(L, "message");
  const char* op = field_text(L, "op");
  if (*op != '\0') {
    lua_pushfstring(L, "%s: %s (%s)", kind, message, op);
  } else {
    lua_pushfstring(L, "%s: %s", kind, message);
  }
  return 1;
}

void push_error_metatable(lua_State* L) {
  if (luaL_newmetatable(L, kErrorMetatable) == 0) return;  // already there
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  // Locked: a script must not reach the shared metatable (rewriting
  // __tostring would reach every error, the host's included).
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
}

void set_string_field(lua_State* L, const char* name, std::string_view value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, name);
}

}  // namespace

void register_error(lua_State* L) {
  push_error_metatable(L);
  lua_pop(L, 1);
}

void push_plain_error(lua_State* L, belay::Kind kind, std::string_view message,
                      std::string_view op) {
  lua_createtable(L, 0, 5);
  set_string_field(L, "kind", kind_name(kind));
  set_string_field(L, "message", message);
  set_string_field(L, "op", op);
  lua_pushboolean(L, retryable_by_default(kind));
  lua_setfield(L, -2, "retryable");
  push_error_metatable(L);
  lua_setmetatable(L, -2);
}

void push_error(lua_State* L, const belay::Error& e) {
  lua_pushcfunction(L, push_error_protected);
  lua_pushlightuserdata(L, const_cast<belay::Error*>(&e));
  // On failure the memory error's value is left instead: still one value.
  lua_pcall(L, 1, 1, 0);
}

int raise_error(lua_State* L, belay::Kind kind, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  luaL_where(L, 1);
  lua_pushvfstring(L, fmt, args);
  va_end(args);
  lua_concat(L, 2);
  size_t length = 0;
  const char* message = lua_tolstring(L, -1, &length);
  push_plain_error(L, kind, std::string_view(message, length));
  return lua_error(L);
}

std::string script_position(lua_State* L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar) != 0; ++level) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0) return std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
  }
  return {};
}

void add_call_site(lua_State* L) {
  if (!is_error(L, -1) || !lua_checkstack(L, 3)) return;
  const std::string where = script_position(L);
  if (where.empty()) return;
  lua_getfield(L, -1, "message");
  size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  const std::string message = text != nullptr ? std::string(text, length) : std::string();
  lua_pop(L, 1);
  if (message.find("(at ") != std::string::npos || message.find(where + ":") != std::string::npos) {
    return;
  }
  // The new string is made inside a protected call: a memory error there
  // leaves the table as it was (still one value on top) and skips no C++
  // destructor.
  const std::string annotated = message + " (at " + where + ")";
  lua_pushcfunction(L, [](lua_State* S) {
    const auto* text = static_cast<const std::string*>(lua_touserdata(S, 2));
    lua_pushlstring(S, text->data(), text->size());
    lua_setfield(S, 1, "message");
    return 0;
  });
  lua_pushvalue(L, -2);
  lua_pushlightuserdata(L, const_cast<std::string*>(&annotated));
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) lua_pop(L, 1);
}

bool is_error(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 2)) return false;
  if (lua_getmetatable(L, idx) == 0) return false;
  luaL_getmetatable(L, kErrorMetatable);
  const bool same = lua_rawequal(L, -1, -2) != 0;
  lua_pop(L, 2);
  return same;
}

belay::Error to_error(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (is_error(L, idx)) return error_from_table(L, idx);
  belay::Error error;
  error.kind = belay::Kind::script;
  error.message = describe_value(L, idx);
  return error;
}

}  // namespace belay::lua
