#include "api/page_routes.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "api/request_object.hpp"
#include "browser/page.hpp"
#include "browser/page_waits.hpp"
#include "browser/request_interception.hpp"
#include "vm/error_value.hpp"
#include "vm/task_scope.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace belay::lua {
namespace {

using nlohmann::json;

constexpr const char* kRouteMetatable = "belay.route";
const char kRoutesKey = 0;      // registry: the runtime's RouteTable
const char kDispatcherKey = 0;  // registry: the dispatcher function

// Runs as each taken request's task, with the routes that may take it,
// newest first: the first that matches answers it. It reads no global, so
// the host's own environment it was compiled in lends it nothing.
const char* kDispatcher = R"LUA(
local req, routes = ...
for i = 1, #routes do
  local route = routes[i]
  if route.block then return req:abort("blockedbyclient") end
  if route.match == nil or route.match(req.url) then return route.handler(req) end
end
)LUA";

struct Route {
  std::weak_ptr<browser::Page> page;
  std::string label;  // the glob; "function" or "block" otherwise
  std::string glob;   // empty for a function route and a block
  int match_ref = LUA_NOREF;
  int handler_ref = LUA_NOREF;
  bool block = false;
  std::vector<std::string> block_globs;
  std::vector<std::string> block_types;
  std::weak_ptr<TaskScope> scope;
  uint64_t scope_undo = 0;
};

// A route's page is `page` only while that page lives: a page opened later
// at the address of a closed one must not inherit the closed one's routes.
bool on_page(const Route& route, const browser::Page* page) {
  auto live = route.page.lock();
  return live && live.get() == page;
}

bool blocks(const Route& route, const browser::RequestInfo& info) {
  return std::find(route.block_types.begin(), route.block_types.end(), info.resource_type) !=
             route.block_types.end() ||
         std::any_of(
             route.block_globs.begin(), route.block_globs.end(),
             [&](const std::string& glob) { return browser::url_matches_glob(glob, info.url); });
}

class RouteTable;

// What the protected push of a request's task needs.
struct Dispatch {
  const std::map<uint64_t, Route>* routes;
  const std::vector<uint64_t>* candidates;
  const std::shared_ptr<browser::PausedRequest>* request;
};

int push_dispatch_protected(lua_State* L) {
  const auto* d = static_cast<const Dispatch*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kDispatcherKey);
  push_request(L, *d->request);
  lua_createtable(L, static_cast<int>(d->candidates->size()), 0);
  int i = 0;
  for (uint64_t id : *d->candidates) {
    const Route& route = d->routes->at(id);
    lua_createtable(L, 0, 2);
    if (route.block) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "block");
    } else {
      if (route.match_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, route.match_ref);
        lua_setfield(L, -2, "match");
      }
      lua_rawgeti(L, LUA_REGISTRYINDEX, route.handler_ref);
      lua_setfield(L, -2, "handler");
    }
    lua_rawseti(L, -2, ++i);
  }
  return 3;
}

// page:route's routes in one runtime: which page each is on, and what its
// requests are offered to.
class RouteTable {
 public:
  explicit RouteTable(Runtime& runtime)
      : runtime_(runtime), runtime_alive_(runtime.alive_token()) {}
  ~RouteTable() { alive_.reset(); }
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  static RouteTable* find(lua_State* L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kRoutesKey);
    auto** table = static_cast<RouteTable**>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    return table == nullptr ? nullptr : *table;
  }
  static RouteTable& of(lua_State* L);

  std::weak_ptr<bool> alive() const { return alive_; }

  uint64_t add(Route route, const std::shared_ptr<TaskScope>& scope) {
    const uint64_t id = next_id_++;
    std::weak_ptr<bool> alive = alive_;
    route.scope = scope;
    route.scope_undo = scope->on_end([this, alive, id] {
      if (!alive.expired()) remove(id, true);
    });
    routes_.emplace(id, std::move(route));
    return id;
  }

  // `sync`: also stop pausing the page's requests when this was its last
  // route (without waiting for the browser).
  bool remove(uint64_t id, bool sync) {
    auto it = routes_.find(id);
    if (it == routes_.end()) return false;
    Route route = std::move(it->second);
    routes_.erase(it);
    if (auto scope = route.scope.lock()) scope->drop(route.scope_undo);
    if (!runtime_alive_.expired()) {
      luaL_unref(runtime_.main(), LUA_REGISTRYINDEX, route.match_ref);
      luaL_unref(runtime_.main(), LUA_REGISTRYINDEX, route.handler_ref);
    }
    if (sync) {
      if (auto page = route.page.lock()) {
        sync_page(*page, runtime_.hooks().call_timeout_ms, [](Result<json>) {});
      }
    }
    return true;
  }

  void remove_all() {
    while (!routes_.empty()) remove(routes_.begin()->first, true);
  }

  // The routes of `page` that `which` names: a route object's id, every
  // route with the glob, or all of them (which == 0 and glob empty).
  std::vector<uint64_t> ids_on(const browser::Page* page, uint64_t which,
                               const std::string* glob) const {
    std::vector<uint64_t> ids;
    for (const auto& [id, route] : routes_) {
      if (!on_page(route, page)) continue;
      if (which != 0 ? id == which : glob == nullptr || route.label == *glob) ids.push_back(id);
    }
    return ids;
  }

  const std::string* label_of(uint64_t id) const {
    auto it = routes_.find(id);
    return it == routes_.end() ? nullptr : &it->second.label;
  }

  // Pauses the page's requests while it has routes; `done` hears when the
  // browser does so (or at once when nothing changes).
  void sync_page(browser::Page& page, uint64_t timeout_ms, std::function<void(Result<json>)> done) {
    const browser::Page* key = &page;
    const bool any = std::any_of(routes_.begin(), routes_.end(),
                                 [key](const auto& entry) { return on_page(entry.second, key); });
    browser::RequestInterception::Decider decider;
    if (any) {
      std::weak_ptr<bool> alive = alive_;
      decider = [this, alive, key](const std::shared_ptr<browser::PausedRequest>& request) {
        return !alive.expired() && take(key, request);
      };
    }
    page.interception().set_decider(std::move(decider), timeout_ms, std::move(done));
  }

 private:
  // Offers a paused request to the page's routes; false when none takes
  // it (it then goes on at once).
  bool take(const browser::Page* key, const std::shared_ptr<browser::PausedRequest>& request) {
    std::vector<uint64_t> candidates;
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
      const Route& route = it->second;
      if (!on_page(route, key)) continue;
      if (route.block) {
        if (!blocks(route, request->info())) continue;
        candidates.push_back(it->first);
        break;  // nothing older is asked
      }
      if (route.match_ref != LUA_NOREF ||
          browser::url_matches_glob(route.glob, request->info().url)) {
        candidates.push_back(it->first);
      }
    }
    if (candidates.empty()) return false;
    const Route& first = routes_.at(candidates.front());
    if (first.block) {
      request->abort(*browser::abort_reason_from_name("blockedbyclient"));
      return true;
    }
    std::shared_ptr<TaskScope> scope = first.scope.lock();
    if (!scope || scope->ended()) return false;
    lua_State* task = runtime_.new_task();
    if (task == nullptr) return false;
    Dispatch dispatch{&routes_, &candidates, &request};
    lua_pushcfunction(task, push_dispatch_protected);
    lua_pushlightuserdata(task, &dispatch);
    if (lua_pcall(task, 1, 3, 0) != LUA_OK) {
      runtime_.state().end_task(task);
      runtime_.log("warn", "a route was not called: no memory left for its request");
      return false;
    }
    std::weak_ptr<bool> alive = alive_;
    std::weak_ptr<TaskScope> weak_scope = scope;
    runtime_.start_child(scope, task, 2,
                         [this, alive, request, weak_scope](lua_State* t, const ResumeResult& r) {
                           if (alive.expired()) return;
                           auto s = weak_scope.lock();
                           handler_done(*request, t, r, !s || s->ended());
                         });
    return true;
  }

  // A handler that raised is told, and so is one its task's end cut off
  // before it decided (the request then went on without its answer);
  // whatever it left undecided goes on unchanged.
  void handler_done(browser::PausedRequest& request, lua_State* task, const ResumeResult& result,
                    bool scope_ended) {
    if (result.status == ResumeStatus::error && (!scope_ended || !request.decided())) {
      const Error error = to_error(task, -1);
      const json params = {
          {"handler", "page:route"},
          {"event", "request"},
          {"url", request.info().url},
          {"kind", std::string(kind_name(error.kind))},
          {"message", error.message},
          {"then", request.decided() ? "its answer stands" : "the request goes on"}};
      if (runtime_.hooks().event) {
        runtime_.hooks().event("handler_failed", params);
      } else {
        runtime_.log("warn", "handler_failed: " + params.dump());
      }
    }
    if (!request.decided()) request.continue_request({});
  }

  Runtime& runtime_;
  std::weak_ptr<Runtime*> runtime_alive_;
  std::map<uint64_t, Route> routes_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

int l_table_gc(lua_State* L) {
  auto** table = static_cast<RouteTable**>(lua_touserdata(L, 1));
  delete *table;
  *table = nullptr;
  return 0;
}

RouteTable& RouteTable::of(lua_State* L) {
  if (RouteTable* found = find(L)) return *found;
  auto** memory = static_cast<RouteTable**>(lua_newuserdatauv(L, sizeof(RouteTable*), 0));
  *memory = nullptr;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_table_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  *memory = new RouteTable(Runtime::from(L));
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kRoutesKey);
  return **memory;
}

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
  if (luaL_loadbuffer(L, kDispatcher, std::strlen(kDispatcher), "=page:route") == LUA_OK) {
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kDispatcherKey);
  } else {
    lua_pop(L, 1);
  }
}

void end_all_routes(Runtime& runtime) {
  if (RouteTable* table = RouteTable::find(runtime.main())) table->remove_all();
}

}  // namespace belay::lua
