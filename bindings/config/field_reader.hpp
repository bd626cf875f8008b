#pragma once
// Reads a script's table (a campaign, a ladder) field by field. The first
// problem wins and everything after it is skipped; the problem is a
// `config` error "file:line: field 'a.b' message", the line being where the
// field is written.

#include "core/near_miss.hpp"
#include "vm/error_value.hpp"

#include <lua.hpp>

#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace belay::lua {

// "file:line: message" for a problem with field `field` (dotted), the line
// being where the field first appears in `source` (1 if nowhere).
std::string field_error(const std::string& file, const std::string& source,
                        const std::string& field, const std::string& message);

class Reader {
 public:
  Reader(lua_State* L, const std::string& file, const std::string& source)
      : L_(L), file_(file), source_(source) {}

  bool failed() const { return error_.has_value(); }
  Error take_error() { return std::move(*error_); }

  // A problem found elsewhere (a ladder file the campaign names).
  void fail_with(Error e) {
    if (!error_) error_ = std::move(e);
  }

  void fail(const std::string& field, const std::string& message) {
    if (!error_) error_ = Error{Kind::config, field_error(file_, source_, field, message), "", {}};
  }

  // Pushes t[key] (raw) for the table at idx.
  int get(int idx, const char* key) {
    lua_pushstring(L_, key);
    return lua_rawget(L_, idx);
  }

  void check_known(int idx, const std::string& prefix, std::initializer_list<const char*> known) {
    lua_pushnil(L_);
    while (!failed() && lua_next(L_, idx) != 0) {
      lua_pop(L_, 1);
      if (lua_type(L_, -1) != LUA_TSTRING) {
        fail(prefix.empty() ? "?" : prefix, "has a key that is not a name");
        break;
      }
      const std::string key = lua_tostring(L_, -1);
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (!ok) {
        fail(prefix + key,
             "is not a known field" +
                 did_you_mean(key, std::vector<std::string_view>(known.begin(), known.end())));
      }
    }
    if (failed()) lua_settop(L_, idx);
  }

  std::optional<double> number(int idx, const char* key, const std::string& field, double min,
                               double max, bool integer) {
    const int type = get(idx, key);
    std::optional<double> out;
    if (type == LUA_TNIL) {
    } else if (type != LUA_TNUMBER || (integer && lua_isinteger(L_, -1) == 0)) {
      fail(field, std::string("must be ") + (integer ? "an integer" : "a number") + ", got " +
                      luaL_typename(L_, -1));
    } else {
      const double v = lua_tonumber(L_, -1);
      if (!(v >= min && v <= max)) {  // NaN too (0/0): it compares false with every bound
        fail(field, "must be between " + fmt(min) + " and " + fmt(max) + ", got " + fmt(v));
      } else {
        out = v;
      }
    }
    lua_pop(L_, 1);
    return out;
  }

  std::optional<std::string> string(int idx, const char* key, const std::string& field) {
    const int type = get(idx, key);
    std::optional<std::string> out;
    if (type == LUA_TSTRING) {
      out = lua_tostring(L_, -1);
    } else if (type != LUA_TNIL) {
      fail(field, std::string("must be a string, got ") + luaL_typename(L_, -1));
    }
    lua_pop(L_, 1);
    return out;
  }

  // The sub-table `key` pushed, or false (nothing pushed) when absent/bad.
  bool table(int idx, const char* key, const std::string& field) {
    const int type = get(idx, key);
    if (type == LUA_TTABLE) return true;
    if (type != LUA_TNIL) fail(field, std::string("must be a table, got ") + luaL_typename(L_, -1));
    lua_pop(L_, 1);
    return false;
  }

  std::vector<std::string> string_list(int idx, const std::string& field) {
    std::vector<std::string> out;
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L_, idx));
    for (lua_Integer i = 1; i <= n && !failed(); ++i) {
      if (lua_rawgeti(L_, idx, i) != LUA_TSTRING) {
        fail(field + "[" + std::to_string(i) + "]", "must be a string");
      } else {
        out.emplace_back(lua_tostring(L_, -1));
      }
      lua_pop(L_, 1);
    }
    return out;
  }

 private:
  static std::string fmt(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  lua_State* L_;
  const std::string& file_;
  const std::string& source_;
  std::optional<Error> error_;
};

}  // namespace belay::lua
