#include "api/options.hpp"

#include "core/near_miss.hpp"
#include "vm/error_value.hpp"

#include <cmath>

namespace belay::lua {

Options::Options(lua_State* L, int idx, const char* op,
                 std::initializer_list<std::string_view> keys)
    : L_(L), idx_(idx > 0 ? idx : 0), op_(op) {
  if (idx_ == 0 || lua_type(L, idx_) == LUA_TNONE || lua_type(L, idx_) == LUA_TNIL) {
    idx_ = 0;
    return;
  }
  if (lua_type(L, idx_) != LUA_TTABLE) {
    fail(std::string("options for ") + op + " must be a table, got " + luaL_typename(L, idx_));
    idx_ = 0;
    return;
  }
  const std::vector<std::string_view> valid(keys);
  std::string list;
  for (std::string_view k : valid) list += (list.empty() ? "" : ", ") + std::string(k);
  lua_pushnil(L);
  while (lua_next(L, idx_) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      fail(std::string("options for ") + op + " have a key that is not a name (a " +
           luaL_typename(L, -1) + "); valid: " + list);
      lua_pop(L, 1);
      return;
    }
    const std::string_view key = lua_tostring(L, -1);
    bool known = false;
    for (std::string_view k : valid) known = known || k == key;
    if (!known) {
      fail("unknown option '" + std::string(key) + "' for " + op + did_you_mean(key, valid) +
           (valid.empty() ? "; it takes no options" : "; valid: " + list));
      lua_pop(L, 1);
      return;
    }
  }
}

bool Options::push_error() {
  ::belay::lua::push_error(L_, *error_);
  return false;
}

void Options::fail(const std::string& message) {
  if (!error_) error_ = Error{Kind::config, message, op_, {}};
}

void Options::fail_type(const char* key, const char* expected) {
  fail(std::string("option '") + key + "' for " + op_ + " must be " + expected + ", got " +
       luaL_typename(L_, -1));
}

int Options::push_field(const char* key) {
  if (idx_ == 0 || error_) {
    lua_pushnil(L_);
    return LUA_TNIL;
  }
  // Raw: a metatable's __index could raise, and a Lua error must not
  // unwind through this object.
  lua_pushstring(L_, key);
  return lua_rawget(L_, idx_);
}

std::optional<bool> Options::boolean(const char* key) {
  std::optional<bool> out;
  const int type = push_field(key);
  if (type == LUA_TBOOLEAN) {
    out = lua_toboolean(L_, -1) != 0;
  } else if (type != LUA_TNIL) {
    fail_type(key, "a boolean");
  }
  lua_pop(L_, 1);
  return out;
}

std::optional<std::string> Options::string(const char* key) {
  std::optional<std::string> out;
  const int type = push_field(key);
  if (type == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L_, -1, &len);
    out = std::string(s, len);
  } else if (type != LUA_TNIL) {
    fail_type(key, "a string");
  }
  lua_pop(L_, 1);
  return out;
}

std::optional<nlohmann::json> Options::string_map(const char* key) {
  std::optional<nlohmann::json> out;
  const int type = push_field(key);
  if (type == LUA_TTABLE) {
    const int table = lua_gettop(L_);
    out = nlohmann::json::object();
    lua_pushnil(L_);
    while (lua_next(L_, table) != 0) {
      if (lua_type(L_, -2) != LUA_TSTRING || lua_type(L_, -1) != LUA_TSTRING) {
        lua_pop(L_, 2);
        fail(std::string("option '") + key + "' for " + op_ +
             " must map strings to strings (header names to values)");
        out.reset();
        break;
      }
      (*out)[lua_tostring(L_, -2)] = lua_tostring(L_, -1);
      lua_pop(L_, 1);
    }
  } else if (type != LUA_TNIL) {
    fail_type(key, "a table of strings");
  }
  lua_pop(L_, 1);
  return out;
}

std::optional<double> Options::number(const char* key, double min, double max, bool integer) {
  std::optional<double> out;
  const int type = push_field(key);
  if (type == LUA_TNUMBER) {
    const double v = lua_tonumber(L_, -1);
    if (integer && lua_isinteger(L_, -1) == 0 && !(std::isfinite(v) && v == std::floor(v))) {
      fail_type(key, "an integer");
    } else if (!(v >= min && v <= max)) {  // NaN too
      char range[96];
      std::snprintf(range, sizeof range, "between %g and %g, got %g", min, max, v);
      fail(std::string("option '") + key + "' for " + op_ + " must be " + range);
    } else {
      out = v;
    }
  } else if (type != LUA_TNIL) {
    fail_type(key, integer ? "an integer" : "a number");
  }
  lua_pop(L_, 1);
  return out;
}

std::optional<std::string> Options::one_of(const char* key,
                                           std::initializer_list<std::string_view> choices) {
  auto value = string(key);
  if (!value) return value;
  for (std::string_view c : choices) {
    if (c == *value) return value;
  }
  std::string list;
  for (std::string_view c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  fail(std::string("option '") + key + "' for " + op_ + " must be one of " + list + ", got \"" +
       *value + "\"" + did_you_mean(*value, std::vector<std::string_view>(choices)));
  return std::nullopt;
}

std::vector<std::string> Options::string_list(const char* key,
                                              std::initializer_list<std::string_view> choices) {
  std::vector<std::string> out;
  const int type = push_field(key);
  auto accept = [&](int at) {
    if (lua_type(L_, at) != LUA_TSTRING) {
      fail(std::string("option '") + key + "' for " + op_ + " must hold strings, got a " +
           luaL_typename(L_, at));
      return;
    }
    std::string value = lua_tostring(L_, at);
    bool known = choices.size() == 0;
    for (std::string_view c : choices) known = known || c == value;
    if (!known) {
      std::string list;
      for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
      fail(std::string("option '") + key + "' for " + op_ + ": unknown value '" + value + "'" +
           did_you_mean(value, std::vector<std::string_view>(choices)) + "; valid: " + list);
      return;
    }
    out.push_back(std::move(value));
  };
  if (type == LUA_TSTRING) {
    accept(-1);
  } else if (type == LUA_TTABLE) {
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L_, -1));
    for (lua_Integer i = 1; i <= n && !error_; ++i) {
      lua_rawgeti(L_, -1, i);
      accept(-1);
      lua_pop(L_, 1);
    }
  } else if (type != LUA_TNIL) {
    fail_type(key, "a string or a list of strings");
  }
  lua_pop(L_, 1);
  return out;
}

std::optional<std::pair<double, double>> Options::point(const char* key) {
  std::optional<std::pair<double, double>> out;
  const int type = push_field(key);
  if (type == LUA_TTABLE) {
    lua_pushliteral(L_, "x");
    lua_rawget(L_, -2);
    lua_pushliteral(L_, "y");
    lua_rawget(L_, -3);
    if (lua_type(L_, -2) == LUA_TNUMBER && lua_type(L_, -1) == LUA_TNUMBER &&
        std::isfinite(lua_tonumber(L_, -2)) && std::isfinite(lua_tonumber(L_, -1))) {
      out = std::make_pair(lua_tonumber(L_, -2), lua_tonumber(L_, -1));
    } else {
      fail(std::string("option '") + key + "' for " + op_ + " must be {x = number, y = number}");
    }
    lua_pop(L_, 2);
  } else if (type != LUA_TNIL) {
    fail_type(key, "a table {x = , y = }");
  }
  lua_pop(L_, 1);
  return out;
}

uint64_t Options::timeout(uint64_t fallback) {
  // Up to a day: a longer one is a mistake (a timestamp passed as a timeout).
  constexpr double kMaxTimeoutMs = 24.0 * 3600 * 1000;
  auto ms = number("timeout", 1, kMaxTimeoutMs, true);
  return ms ? static_cast<uint64_t>(*ms) : fallback;
}

bool read_timeout_option(lua_State* L, int idx, const char* op, uint64_t fallback, uint64_t* out) {
  Options o(L, idx, op, {"timeout"});
  *out = o.timeout(fallback);
  return o.ok() || o.push_error();
}

}  // namespace belay::lua
