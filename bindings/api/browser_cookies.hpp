#pragma once
// browser:cookies, browser:set_cookies, browser:clear_cookies.

#include <lua.hpp>

#include <vector>

namespace belay::lua {

void add_cookie_methods(std::vector<luaL_Reg>* methods);

}  // namespace belay::lua
