#include "repl/repl_printer.hpp"

#include "vm/json_value.hpp"

#include "api/handles.hpp"
#include "vm/error_value.hpp"
#include "vm/readonly.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>
#include <vector>

namespace belay::lua {
namespace {

bool is_identifier(std::string_view s) {
  static const char* const kKeywords[] = {"and",   "break", "do",       "else", "elseif", "end",
                                          "false", "for",   "function", "goto", "if",     "in",
                                          "local", "nil",   "not",      "or",   "repeat", "return",
                                          "then",  "true",  "until",    "while"};
  if (s.empty() || (std::isdigit(static_cast<unsigned char>(s[0])) != 0)) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return std::none_of(std::begin(kKeywords), std::end(kKeywords),
                      [&](const char* k) { return s == k; });
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%d", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string address_of(lua_State* L, int idx, const char* what) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s: %p", what, lua_topointer(L, idx));
  return buf;
}

class Printer {
 public:
  Printer(lua_State* L, const PrintLimits& limits) : L_(L), limits_(limits) {}

  std::string value(int idx, int depth) {
    idx = lua_absindex(L_, idx);
    switch (lua_type(L_, idx)) {
      case LUA_TNIL:
        return "nil";
      case LUA_TBOOLEAN:
        return lua_toboolean(L_, idx) != 0 ? "true" : "false";
      case LUA_TNUMBER:
        return number(idx);
      case LUA_TSTRING: {
        size_t len = 0;
        const char* s = lua_tolstring(L_, idx, &len);
        return quoted(std::string_view(s, len));
      }
      case LUA_TTABLE:
        return table(idx, depth);
      case LUA_TFUNCTION:
        return lua_iscfunction(L_, idx) != 0 ? address_of(L_, idx, "builtin")
                                             : address_of(L_, idx, "function");
      case LUA_TUSERDATA:
        return userdata(idx);
      case LUA_TTHREAD:
        return address_of(L_, idx, "thread");
      case LUA_TLIGHTUSERDATA:
        // JSON's null inside a value from the page (evaluate("[1, null]")).
        if (is_json_null(L_, idx)) return "null";
        return address_of(L_, idx, "value");
      default:
        return address_of(L_, idx, "value");
    }
  }

 private:
  std::string number(int idx) {
    // lua_tolstring on a copy: numbers convert without metamethods.
    lua_pushvalue(L_, idx);
    std::string text = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return text;
  }

  // page(...) and browser(...) by the host's own __tostring (C code, no
  // script); anything else by address.
  std::string userdata(int idx) {
    const bool known = luaL_testudata(L_, idx, kPageMetatable) != nullptr ||
                       luaL_testudata(L_, idx, kBrowserMetatable) != nullptr;
    if (known && luaL_getmetafield(L_, idx, "__tostring") != LUA_TNIL) {
      lua_pushvalue(L_, idx);
      if (lua_pcall(L_, 1, 1, 0) == LUA_OK && lua_type(L_, -1) == LUA_TSTRING) {
        std::string text = lua_tostring(L_, -1);
        lua_pop(L_, 1);
        return text;
      }
      lua_pop(L_, 1);
    }
    return address_of(L_, idx, "userdata");
  }

  // A read-only proxy shows the table behind it (its metatable's __index).
  int unwrap_readonly(int idx) {
    if (!is_readonly(L_, idx) || lua_getmetatable(L_, idx) == 0) return 0;
    lua_getfield(L_, -1, "__index");
    lua_remove(L_, -2);
    if (lua_type(L_, -1) != LUA_TTABLE) {
      lua_pop(L_, 1);
      return 0;
    }
    return lua_gettop(L_);
  }

  std::string table(int idx, int depth) {
    if (is_error(L_, idx)) return to_error(L_, idx).to_string();
    const void* id = lua_topointer(L_, idx);
    if (std::find(path_.begin(), path_.end(), id) != path_.end()) return "<cycle>";
    if (depth >= limits_.max_depth) return "{...}";
    const int original = unwrap_readonly(idx);
    const int source = original != 0 ? original : idx;
    path_.push_back(id);
    std::vector<std::string> entries = table_entries(source, depth);
    path_.pop_back();
    if (original != 0) lua_pop(L_, 1);
    return layout(entries, depth);
  }

  std::vector<std::string> table_entries(int t, int depth) {
    std::vector<std::string> entries;
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L_, t));
    size_t total = 0;
    for (lua_Integer i = 1; i <= n; ++i, ++total) {
      if (entries.size() >= limits_.max_items) continue;
      lua_rawgeti(L_, t, i);
      entries.push_back(value(-1, depth + 1));
      lua_pop(L_, 1);
    }
    std::vector<std::pair<std::string, std::string>> keyed;
    lua_pushnil(L_);
    while (lua_next(L_, t) != 0) {
      if (lua_isinteger(L_, -2) != 0 && lua_tointeger(L_, -2) >= 1 && lua_tointeger(L_, -2) <= n) {
        lua_pop(L_, 1);
        continue;
      }
      ++total;
      if (entries.size() + keyed.size() < limits_.max_items) {
        keyed.emplace_back(key(-2, depth), value(-1, depth + 1));
      }
      lua_pop(L_, 1);
    }
    std::sort(keyed.begin(), keyed.end());
    for (auto& [k, v] : keyed) entries.push_back(k + " = " + v);
    if (total > entries.size()) {
      entries.push_back("... (" + std::to_string(total - entries.size()) + " more)");
    }
    return entries;
  }

  std::string key(int idx, int depth) {
    if (lua_type(L_, idx) == LUA_TSTRING) {
      size_t len = 0;
      const char* s = lua_tolstring(L_, idx, &len);
      if (is_identifier(std::string_view(s, len))) return std::string(s, len);
    }
    return "[" + value(idx, depth + 1) + "]";
  }

  std::string layout(const std::vector<std::string>& entries, int depth) const {
    if (entries.empty()) return "{}";
    size_t width = 4;
    bool nested_lines = false;
    for (const auto& e : entries) {
      width += e.size() + 2;
      nested_lines = nested_lines || e.find('\n') != std::string::npos;
    }
    if (!nested_lines && width + static_cast<size_t>(depth) * 2 <= limits_.line_width) {
      std::string out = "{ ";
      for (size_t i = 0; i < entries.size(); ++i) out += (i > 0 ? ", " : "") + entries[i];
      return out + " }";
    }
    const std::string indent(static_cast<size_t>(depth + 1) * 2, ' ');
    std::string out = "{\n";
    for (const auto& e : entries) out += indent + e + ",\n";
    return out + std::string(static_cast<size_t>(depth) * 2, ' ') + "}";
  }

  lua_State* L_;
  PrintLimits limits_;
  std::vector<const void*> path_;
};

}  // namespace

std::string pretty_value(lua_State* L, int idx, const PrintLimits& limits) {
  if (lua_checkstack(L, 2 * limits.max_depth + 10) == 0) return "<no stack to print>";
  return Printer(L, limits).value(idx, 0);
}

}  // namespace belay::lua
