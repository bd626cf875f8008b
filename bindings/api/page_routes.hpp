#pragma once
// page:route(glob_or_fn, handler), page:unroute(route | glob | nil) and
// page:block{patterns, types} (page_routes.cpp; the routes themselves are
// kept in route_table.hpp). While a page has routes its requests are
// paused (browser/request_interception.hpp); each is
// offered to the page's routes, newest first. The first that matches — a
// glob on the URL, or a function of the URL that returns true — gets it:
// a handler runs as a task of its own with the request object
// (request_object.hpp) and answers it; a block aborts it at once. A request
// no route takes, or whose handler answered nothing, raised or was
// cancelled, goes on unchanged (a handler that raised is a handler_failed
// event). Routes end with the item that made them, with their page, or with
// a reload of the script.

#include "vm/runtime.hpp"

#include <lua.hpp>

#include <vector>

namespace belay::lua {

void add_route_methods(std::vector<luaL_Reg>* methods);
void register_route_types(lua_State* L);
// A reload: the old version's routes end (their requests go on).
void end_all_routes(Runtime& runtime);

}  // namespace belay::lua
