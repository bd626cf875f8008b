#pragma once
// page:wait_for_function and page:wait_for_url: waits on the page's own
// state rather than an element. Their own file because frames will carry
// them too.

#include <lua.hpp>

#include <vector>

namespace belay::lua {

// Appends the wait methods to a handle type's method list.
void add_wait_methods(std::vector<luaL_Reg>* methods);

}  // namespace belay::lua
