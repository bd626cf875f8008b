#include "api/page_routes.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "api/request_object.hpp"
#include "api/route_table.hpp"
#include "browser/page.hpp"
#include "browser/request_interception.hpp"
#include "vm/error_value.hpp"
#include "vm/task_scope.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace belay::lua {
namespace {

using nlohmann::json;

constexpr const char* kRouteMetatable = "belay.route";

struct RouteBox {
  uint64_t id;
};

void push_route(lua_State* L, uint64_t id) {
  auto* box = static_cast<RouteBox*>(lua_newuserdatauv(L, sizeof(RouteBox), 0));
  box->id = id;
  luaL_setmetatable(L, kRouteMetatable);
}

int l_route_tostring(lua_State* L) {
  auto* box = static_cast<RouteBox*>(luaL_checkudata(L, 1, kRouteMetatable));
  RouteTable* table = RouteTable::find(L);
  const std::string* label = table != nullptr ? table->label_of(box->id) : nullptr;
  lua_pushfstring(L, "route(%s)", label != nullptr ? label->c_str() : "ended");
  return 1;
}

bool refuse(lua_State* L, Kind kind, const char* op, const std::string& message) {
  push_error(L, Error{kind, std::string(op) + ": " + message, op, {}});
  return false;
}

// What route and block share once their arguments are read: the page, the
// task's scope, the call. The route is added, the page starts pausing its
// requests if it did not, and the call ends with the route object when the
// browser does. False with an error table pushed (the refs are released).
bool add_route(lua_State* L, const char* op, uint64_t timeout_ms, Route route) {
  auto release = [&] {
    luaL_unref(L, LUA_REGISTRYINDEX, route.match_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, route.handler_ref);
  };
  std::shared_ptr<TaskScope> scope = Runtime::from(L).scope_of(L);
  if (!scope) {
    release();
    return refuse(L, Kind::script, op,
                  "cannot be called here: routes belong to a task (run, a ladder step, the "
                  "console), not to a file's top level");
  }
  browser::Page* page = nullptr;
  CallSlot slot;
  if (!begin_page_call(L, op, &page, &slot)) {
    release();
    return false;
  }
  auto* handle = static_cast<PageHandle*>(lua_touserdata(L, 1));
  RouteTable& table = RouteTable::of(L);
  route.page = handle->page;
  const uint64_t id = table.add(std::move(route), scope);
  std::weak_ptr<bool> alive = table.alive();
  table.sync_page(*page, timeout_ms, [slot, id, alive, &table](Result<json> r) {
    if (!r) {
      if (!alive.expired()) table.remove(id, false);
      return slot.fail(std::move(r.error()));
    }
    slot.succeed([id](lua_State* S) {
      push_route(S, id);
      return 1;
    });
  });
  return true;
}

// page:route(glob_or_fn, handler, {timeout}) -> a route
bool start_route(lua_State* L) {
  const char* op = "page:route";
  const int matcher = lua_type(L, 2);
  if (matcher != LUA_TSTRING && matcher != LUA_TFUNCTION) {
    return refuse(L, Kind::script, op,
                  std::string("the first argument must be a URL glob or a function of the URL, "
                              "not ") +
                      luaL_typename(L, 2));
  }
  if (matcher == LUA_TSTRING && lua_rawlen(L, 2) == 0) {
    return refuse(L, Kind::config, op, "the URL glob is empty ('**' takes every request)");
  }
  if (lua_type(L, 3) != LUA_TFUNCTION) {
    return refuse(L, Kind::script, op,
                  std::string("the handler must be a function, not ") + luaL_typename(L, 3));
  }
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 4, op, Runtime::from(L).hooks().call_timeout_ms, &timeout_ms)) {
    return false;
  }
  RouteTable::of(L);  // made now: it allocates Lua memory, which may raise
  lua_pushvalue(L, 3);
  const int handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  int match_ref = LUA_NOREF;
  if (matcher == LUA_TFUNCTION) {
    lua_pushvalue(L, 2);
    match_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  Route route;
  route.handler_ref = handler_ref;
  route.match_ref = match_ref;
  if (matcher == LUA_TSTRING) {
    route.glob = lua_tostring(L, 2);
    route.label = route.glob;
  } else {
    route.label = "function";
  }
  return add_route(L, op, timeout_ms, std::move(route));
}

// page:block{patterns = {...}, types = {...}, timeout} -> a route
bool start_block(lua_State* L) {
  const char* op = "page:block";
  if (lua_type(L, 2) != LUA_TTABLE) {
    return refuse(L, Kind::config, op, "expects a table: {patterns = {...}, types = {...}}");
  }
  RouteTable::of(L);
  Route route;
  {
    Options o(L, 2, op, {"patterns", "types", "timeout"});
    route.block_globs = o.string_list("patterns");
    const auto& names = browser::resource_type_names();
    route.block_types = o.string_list("types");
    for (const auto& type : route.block_types) {
      if (std::find(names.begin(), names.end(), type) == names.end()) {
        std::string valid;
        for (const auto& name : names) valid += (valid.empty() ? "" : ", ") + name;
        return refuse(L, Kind::config, op, "unknown resource type '" + type + "'; valid: " + valid);
      }
    }
    const uint64_t timeout_ms = o.timeout(Runtime::from(L).hooks().call_timeout_ms);
    if (!o.ok()) return o.push_error();
    if (route.block_globs.empty() && route.block_types.empty()) {
      return refuse(L, Kind::config, op, "needs patterns or types (or both)");
    }
    route.block = true;
    route.label = "block";
    return add_route(L, op, timeout_ms, std::move(route));
  }
}

// page:unroute(route | glob | nil, {timeout}) -> how many routes ended
bool start_unroute(lua_State* L) {
  const char* op = "page:unroute";
  uint64_t which = 0;
  std::string glob;
  const bool by_glob = lua_type(L, 2) == LUA_TSTRING;
  if (auto* box = static_cast<RouteBox*>(luaL_testudata(L, 2, kRouteMetatable))) {
    which = box->id;
  } else if (by_glob) {
    glob = lua_tostring(L, 2);
  } else if (!lua_isnoneornil(L, 2)) {
    return refuse(L, Kind::script, op,
                  std::string("expects a route (what page:route returned), a glob or nothing, "
                              "not ") +
                      luaL_typename(L, 2));
  }
  uint64_t timeout_ms = 0;
  if (!read_timeout_option(L, 3, op, Runtime::from(L).hooks().call_timeout_ms, &timeout_ms)) {
    return false;
  }
  browser::Page* page = nullptr;
  CallSlot slot;
  if (!begin_page_call(L, op, &page, &slot)) return false;
  RouteTable* table = RouteTable::find(L);
  const std::vector<uint64_t> ids =
      table == nullptr ? std::vector<uint64_t>{}
                       : table->ids_on(page, which, which == 0 && by_glob ? &glob : nullptr);
  for (uint64_t id : ids) table->remove(id, false);
  const double count = static_cast<double>(ids.size());
  if (table == nullptr) {
    slot.succeed_json(count);
    return true;
  }
  table->sync_page(*page, timeout_ms, [slot, count](Result<json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_json(count);
  });
  return true;
}

BELAY_YIELDING_BINDING(route)
BELAY_YIELDING_BINDING(block)
BELAY_YIELDING_BINDING(unroute)

}  // namespace

void add_route_methods(std::vector<luaL_Reg>* methods) {
  methods->push_back({"route", l_route});
  methods->push_back({"block", l_block});
  methods->push_back({"unroute", l_unroute});
}

void register_route_types(lua_State* L) {
  register_request_type(L);
  register_locked_metatable(L, kRouteMetatable, nullptr, nullptr, l_route_tostring);
  register_route_dispatcher(L);
}

void end_all_routes(Runtime& runtime) {
  if (RouteTable* table = RouteTable::find(runtime.main())) table->remove_all();
}

}  // namespace belay::lua
