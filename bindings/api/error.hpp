#pragma once
// The binding for `belay.error(kind, message)`; the error table itself is
// vm/error_value.hpp.

#include <lua.hpp>

namespace belay::lua {

// belay.error(kind, message): raises an error table of that kind; an unknown
// kind raises a `script` error "unknown error kind 'X'". op = caller position.
int l_belay_error(lua_State* L);

}  // namespace belay::lua
