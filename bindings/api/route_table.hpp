#pragma once
// page:route's routes in one runtime (RouteTable): which page each is on,
// and what that page's paused requests are offered to. While a page has a
// route its requests are paused (browser/request_interception.hpp); each is
// offered to the page's routes, newest first, and the first that matches
// takes it: a block aborts it at once, a handler runs as a task of its own
// (the dispatcher chunk, route_table.cpp) with the request object. The Lua
// calls that add and end routes are in page_routes.cpp.

#include "browser/request_interception.hpp"
#include "vm/runtime.hpp"
#include "vm/task_scope.hpp"

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace belay::browser {
class Page;
}

namespace belay::lua {

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

class RouteTable {
 public:
  explicit RouteTable(Runtime& runtime)
      : runtime_(runtime), runtime_alive_(runtime.alive_token()) {}
  ~RouteTable() { alive_.reset(); }
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // The runtime's table: none before the first route; `of` makes it.
  static RouteTable* find(lua_State* L);
  static RouteTable& of(lua_State* L);

  std::weak_ptr<bool> alive() const { return alive_; }

  uint64_t add(Route route, const std::shared_ptr<TaskScope>& scope);
  // `sync`: also stop pausing the page's requests when this was its last
  // route (without waiting for the browser).
  bool remove(uint64_t id, bool sync);
  void remove_all() {
    while (!routes_.empty()) remove(routes_.begin()->first, true);
  }
  // The routes of `page` that `which` names: a route object's id, every
  // route with the glob, or all of them (which == 0 and glob empty).
  std::vector<uint64_t> ids_on(const browser::Page* page, uint64_t which,
                               const std::string* glob) const;
  const std::string* label_of(uint64_t id) const {
    auto it = routes_.find(id);
    return it == routes_.end() ? nullptr : &it->second.label;
  }
  // Pauses the page's requests while it has routes; `done` hears when the
  // browser does so (or at once when nothing changes).
  void sync_page(browser::Page& page, uint64_t timeout_ms,
                 std::function<void(Result<nlohmann::json>)> done);

 private:
  bool take(const browser::Page* key, const std::shared_ptr<browser::PausedRequest>& request);
  void handler_done(browser::PausedRequest& request, lua_State* task, const ResumeResult& result,
                    bool scope_ended);

  Runtime& runtime_;
  std::weak_ptr<Runtime*> runtime_alive_;
  std::map<uint64_t, Route> routes_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Compiles the chunk each taken request's task runs (once per state).
void register_route_dispatcher(lua_State* L);

}  // namespace belay::lua
