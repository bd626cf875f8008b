#pragma once
// The binding for belay.json.{encode,decode,null}; the conversion itself is
// vm/json_value.hpp.

#include <lua.hpp>

namespace belay::lua {

// Pushes the belay.json table {encode, decode, null}.
void push_json_module(lua_State* L);

}  // namespace belay::lua
