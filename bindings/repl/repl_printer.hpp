#pragma once
// How the console shows a value: tables nested and indented, a table met
// again on its own path marked <cycle>, long lists cut with a count of what
// was left out. It reads raw (no metamethod runs: the host never runs
// script code outside a task), but shows a read-only proxy's contents and
// the host's own userdata (page, browser) by their names.

#include <lua.hpp>

#include <cstddef>
#include <string>

namespace belay::lua {

struct PrintLimits {
  size_t max_items = 50;   // entries shown per table before "... (N more)"
  int max_depth = 6;       // deeper tables show as {...}
  size_t line_width = 72;  // a table that fits stays on one line
};

std::string pretty_value(lua_State* L, int idx, const PrintLimits& limits = {});

}  // namespace belay::lua
