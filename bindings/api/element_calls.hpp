#pragma once
// The element actions, reads and waits of page:* (DESIGN.md "Lua API"):
// click … upload, text … is_checked, wait_for. They are their own file
// because frames (page:frame()) will carry the same methods.

#include <lua.hpp>

#include <vector>

namespace belay::lua {

// Appends the element methods to a handle type's method list.
void add_element_methods(std::vector<luaL_Reg>* methods);

}  // namespace belay::lua
