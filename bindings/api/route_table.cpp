#include "api/route_table.hpp"

#include "api/request_object.hpp"
#include "browser/page.hpp"
#include "browser/page_waits.hpp"
#include "vm/error_value.hpp"

#include <algorithm>
#include <cstring>

namespace belay::lua {
namespace {

using nlohmann::json;

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

int l_table_gc(lua_State* L) {
  auto** table = static_cast<RouteTable**>(lua_touserdata(L, 1));
  delete *table;
  *table = nullptr;
  return 0;
}

}  // namespace

RouteTable* RouteTable::find(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kRoutesKey);
  auto** table = static_cast<RouteTable**>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return table == nullptr ? nullptr : *table;
}

uint64_t RouteTable::add(Route route, const std::shared_ptr<TaskScope>& scope) {
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
bool RouteTable::remove(uint64_t id, bool sync) {
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

std::vector<uint64_t> RouteTable::ids_on(const browser::Page* page, uint64_t which,
                                         const std::string* glob) const {
  std::vector<uint64_t> ids;
  for (const auto& [id, route] : routes_) {
    if (!on_page(route, page)) continue;
    if (which != 0 ? id == which : glob == nullptr || route.label == *glob) ids.push_back(id);
  }
  return ids;
}

void RouteTable::sync_page(browser::Page& page, uint64_t timeout_ms,
                           std::function<void(Result<json>)> done) {
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

// Offers a paused request to the page's routes; false when none takes
// it (it then goes on at once).
bool RouteTable::take(const browser::Page* key,
                      const std::shared_ptr<browser::PausedRequest>& request) {
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
void RouteTable::handler_done(browser::PausedRequest& request, lua_State* task,
                              const ResumeResult& result, bool scope_ended) {
  if (result.status == ResumeStatus::error && (!scope_ended || !request.decided())) {
    const Error error = to_error(task, -1);
    const json params = {{"handler", "page:route"},
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

void register_route_dispatcher(lua_State* L) {
  if (luaL_loadbuffer(L, kDispatcher, std::strlen(kDispatcher), "=page:route") == LUA_OK) {
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kDispatcherKey);
  } else {
    lua_pop(L, 1);
  }
}

}  // namespace belay::lua
