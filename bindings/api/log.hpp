#pragma once
#include <lua.hpp>

namespace belay::lua {
// Pushes the belay.log table.
void push_log_module(lua_State* L);
}  // namespace belay::lua
