#pragma once
// belay.all(fn, ...): runs the functions as sibling tasks of the caller's
// and returns the first value each returned, in order. The first error
// cancels the others (their pending calls end with `cancelled`, and any call
// they begin after fails so) and, once every sibling has ended, is raised as
// it was. The caller's cancellation (the item's deadline, Ctrl-C) cancels
// them all; they share its scope, so they also end with its item.

#include <lua.hpp>

namespace belay::lua {

int belay_all(lua_State* L);

}  // namespace belay::lua
