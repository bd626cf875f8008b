#pragma once
// page:set_extra_headers, page:set_user_agent, page:set_viewport.

#include <lua.hpp>

#include <vector>

namespace belay::lua {

void add_settings_methods(std::vector<luaL_Reg>* methods);

}  // namespace belay::lua
