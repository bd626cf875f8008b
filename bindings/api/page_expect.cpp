// page:expect(name, {predicate, timeout}, action): subscribes, runs the
// action, and waits for the first matching event (page_events.hpp). The
// watch collects the page's events of that name from before the action
// runs, so none the action causes at once is missed.

#include "api/handles.hpp"
#include "api/options.hpp"
#include "api/page_events.hpp"
#include "browser/page_events.hpp"
#include "core/uv_handle.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/runtime.hpp"

#include <deque>
#include <memory>
#include <string>

namespace belay::lua {
namespace {

using nlohmann::json;

constexpr const char* kWatchMetatable = "belay.expect";

// ------------------------------------------------------------------- expect

// What page:expect collects while its action runs and after: the page's
// events of one name, in order, until it closes.
struct Watch {
  std::weak_ptr<browser::Page> page;
  std::weak_ptr<browser::BrowserSession> session;  // whose pages popups are
  uint64_t listener = 0;
  std::deque<json> events;
  CallSlot waiting;  // the task's wait, while it waits
  uint64_t deadline_ms = 0;
  uint64_t timeout_ms = 0;
  std::string name;
  bool closed = false;

  void close() {
    if (closed) return;
    closed = true;
    if (auto p = page.lock()) p->events().unlisten(listener);
    events.clear();
  }
};

struct WatchBox {
  std::shared_ptr<Watch> watch;
};

int l_watch_gc(lua_State* L) {
  auto* box = static_cast<WatchBox*>(luaL_checkudata(L, 1, kWatchMetatable));
  if (box->watch) box->watch->close();
  box->~WatchBox();
  return 0;
}

// Stack of page:expect while it runs: 1 page, 2 name, 3 opts, 4 action,
// 5 predicate or nil, 6 the watch; 7 a candidate event.
constexpr int kPredicate = 5;
constexpr int kWatch = 6;
constexpr int kCandidate = 7;

enum ExpectStep : lua_KContext { after_action = 0, after_predicate = 1, after_wait = 2 };

Watch& watch_at(lua_State* L) { return *static_cast<WatchBox*>(lua_touserdata(L, kWatch))->watch; }

// Begins waiting for the next event, with a timer for what is left of the
// deadline. False with an error pushed when the call cannot begin.
bool start_expect_wait(lua_State* L, uint64_t left_ms) {
  Runtime& runtime = Runtime::from(L);
  auto slot = runtime.begin_call(L, "page:expect");
  if (!slot) return false;
  Watch& watch = watch_at(L);
  watch.waiting = *slot;
  struct Timer {
    UvHandle<uv_timer_t> timer;
    CallSlot slot;
    std::string name;
    uint64_t timeout_ms;
  };
  auto timer = std::make_shared<Timer>();
  timer->slot = *slot;
  timer->name = watch.name;
  timer->timeout_ms = watch.timeout_ms;
  uv_timer_init(runtime.loop(), timer->timer.get());
  timer->timer->data = timer.get();
  runtime.on_call_abandoned(*slot, [timer]() mutable { timer->timer.reset(); });
  uv_timer_start(
      timer->timer.get(),
      [](uv_timer_t* t) {
        auto* s = static_cast<Timer*>(t->data);
        if (s == nullptr) return;
        CallSlot done = s->slot;
        const std::string message =
            "no matching '" + s->name + "' event within " + std::to_string(s->timeout_ms) + " ms";
        s->timer.reset();
        done.fail(Error{Kind::timeout, message, "page:expect", {}});
      },
      left_ms, 0);
  return true;
}

int expect_step(lua_State* L, int status, lua_KContext step);

// Pushes the navigation_failed error of the failed download at kCandidate
// (a `download` event with `error`); false when it is no failure.
bool push_download_failure(lua_State* L, const Watch& watch) {
  if (watch.name != "download") return false;
  const bool failed = lua_getfield(L, kCandidate, "error") == LUA_TSTRING;
  const std::string why = failed ? lua_tostring(L, -1) : "";
  lua_pop(L, 1);
  if (!failed) return false;
  lua_getfield(L, kCandidate, "url");
  const std::string url = lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
  lua_pop(L, 1);
  push_error(L, Error{Kind::navigation_failed,
                      "the download of " + url + " failed: " + why,
                      "page:expect",
                      {}});
  return true;
}

// The matching event at kCandidate is the answer, unless it is a download
// that failed: that is the expect's error.
int return_match(lua_State* L, Watch& watch) {
  watch.close();
  lua_settop(L, kCandidate);
  if (push_download_failure(L, watch)) {
    add_call_site(L);
    return lua_error(L);
  }
  return 1;
}

// The next event to look at, or a wait for one.
int expect_next(lua_State* L) {
  Watch& watch = watch_at(L);
  lua_settop(L, kWatch);
  if (!watch.events.empty()) {
    {
      json event = std::move(watch.events.front());
      watch.events.pop_front();
      push_event_payload(L, watch.name, event, watch.session.lock());
    }
    if (lua_isnil(L, kPredicate)) return return_match(L, watch);
    lua_pushvalue(L, kPredicate);
    lua_pushvalue(L, kCandidate);
    return expect_step(L, lua_pcallk(L, 1, 1, 0, after_predicate, expect_step), after_predicate);
  }
  Runtime& runtime = Runtime::from(L);
  uv_update_time(runtime.loop());
  const uint64_t now = uv_now(runtime.loop());
  if (now >= watch.deadline_ms) {
    {
      // In a block of its own: lua_error longjmps past this frame.
      Error error{Kind::timeout,
                  "no matching '" + watch.name + "' event within " +
                      std::to_string(watch.timeout_ms) + " ms",
                  "page:expect",
                  {}};
      watch.close();
      push_error(L, error);
    }
    add_call_site(L);
    return lua_error(L);
  }
  if (!start_expect_wait(L, watch.deadline_ms - now)) {
    watch.close();
    add_call_site(L);
    return lua_error(L);
  }
  return lua_yieldk(L, 0, after_wait, expect_step);
}

int expect_step(lua_State* L, int status, lua_KContext step) {
  Watch& watch = watch_at(L);
  if (step == after_action || step == after_predicate) {
    if (status != LUA_OK && status != LUA_YIELD) {
      watch.close();
      return lua_error(L);  // the action's or the predicate's error, as raised
    }
    if (step == after_predicate && lua_toboolean(L, -1)) return return_match(L, watch);
    return expect_next(L);
  }
  // after_wait: resumed with (true) or (false, error).
  if (!lua_toboolean(L, kWatch + 1)) {
    watch.close();
    return lua_error(L);
  }
  return expect_next(L);
}

// page:expect(name, {predicate, timeout}, action) -> the first matching event
// Checks page:expect's arguments and starts watching; false with the
// error pushed. Its C++ objects end with it, before the action runs (the
// action may yield, and a yield longjmps past l_expect's frame).
bool start_expect(lua_State* L) {
  const char* op = "page:expect";
  std::string name;
  bool ok = check_event_name(L, 2, op, &name);
  uint64_t timeout_ms = 0;
  if (ok) {
    Options o(L, 3, op, {"predicate", "timeout"});
    timeout_ms = o.timeout(Runtime::from(L).hooks().call_timeout_ms);
    if (!o.ok()) ok = o.push_error();
  }
  if (ok && lua_istable(L, 3)) {
    lua_getfield(L, 3, "predicate");
    const int type = lua_type(L, -1);
    lua_pop(L, 1);
    if (type != LUA_TNIL && type != LUA_TFUNCTION) {
      ok = false;
      push_error(L, Error{Kind::config, "page:expect: predicate must be a function", op, {}});
    }
  }
  if (ok && lua_type(L, 4) != LUA_TFUNCTION) {
    ok = false;
    push_error(
        L, Error{Kind::script,
                 std::string(op) + ": the action must be a function, not " + luaL_typename(L, 4),
                 op,
                 {}});
  }
  browser::Page* page = ok ? live_page(L, 1, op) : nullptr;
  if (ok && page == nullptr) ok = false;
  if (ok && !Runtime::from(L).scope_of(L)) {
    ok = false;
    push_error(L, Error{Kind::script,
                        std::string(op) + " cannot be called here: it waits, and only run, a "
                                          "ladder step or the console can",
                        op,
                        {}});
  }
  if (!ok) return false;
  lua_settop(L, 4);
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "predicate");
  } else {
    lua_pushnil(L);
  }
  auto* box = static_cast<WatchBox*>(lua_newuserdatauv(L, sizeof(WatchBox), 0));
  new (box) WatchBox{std::make_shared<Watch>()};
  luaL_setmetatable(L, kWatchMetatable);
  {
    Runtime& runtime = Runtime::from(L);
    auto* handle = static_cast<PageHandle*>(lua_touserdata(L, 1));
    std::shared_ptr<Watch> watch = box->watch;
    std::weak_ptr<Watch> weak = watch;
    watch->page = handle->page;
    watch->session = handle->session;
    watch->name = name;
    watch->timeout_ms = timeout_ms;
    uv_update_time(runtime.loop());
    watch->deadline_ms = uv_now(runtime.loop()) + timeout_ms;
    watch->listener = page->events().listen(name, [weak](const json& payload) {
      auto w = weak.lock();
      if (!w || w->closed) return;
      w->events.push_back(payload);
      if (w->waiting.active()) {
        CallSlot slot = w->waiting;
        w->waiting = CallSlot();
        slot.succeed_none();
      }
    });
  }
  return true;
}

int l_expect_impl(lua_State* L) {
  if (!start_expect(L)) {
    add_call_site(L);
    return lua_error(L);
  }
  lua_pushvalue(L, 4);
  return expect_step(L, lua_pcallk(L, 0, 0, 0, after_action, expect_step), after_action);
}

}  // namespace

int l_page_expect(lua_State* L) { return l_expect_impl(L); }

void register_expect_type(lua_State* L) {
  register_locked_metatable(L, kWatchMetatable, nullptr, l_watch_gc, nullptr);
}

}  // namespace belay::lua
