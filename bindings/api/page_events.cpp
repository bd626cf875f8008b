#include "api/page_events.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "browser/page_events.hpp"
#include "core/near_miss.hpp"
#include "core/uv_handle.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/runtime.hpp"

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace belay::lua {
namespace {

using nlohmann::json;

constexpr const char* kSubscriptionMetatable = "belay.subscription";
constexpr const char* kDialogMetatable = "belay.dialog";
constexpr const char* kWatchMetatable = "belay.expect";
const char kHandlersKey = 0;  // registry: the runtime's EventHandlers

// Names page:on knows but this version does not deliver yet.
bool undelivered(const std::string& name) { return name == "download" || name == "popup"; }

// Checks an event name argument; false with the error table pushed.
bool check_event_name(lua_State* L, int idx, const char* op, std::string* out) {
  if (lua_type(L, idx) != LUA_TSTRING) {
    push_error(L,
               Error{Kind::script, std::string(op) + ": the event name must be a string", op, {}});
    return false;
  }
  *out = lua_tostring(L, idx);
  if (!browser::is_page_event_name(*out)) {
    std::vector<std::string_view> names;
    std::string list;
    for (const auto& name : browser::page_event_names()) {
      names.emplace_back(name);
      list += (list.empty() ? "" : ", ") + name;
    }
    push_error(L, Error{Kind::config,
                        std::string(op) + ": unknown event '" + *out + "'" +
                            did_you_mean(*out, names) + "; valid: " + list,
                        op,
                        {}});
    return false;
  }
  if (undelivered(*out)) {
    push_error(L, Error{Kind::config,
                        std::string(op) + ": '" + *out +
                            "' events are not delivered by this version of belay",
                        op,
                        {}});
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ dialogs

struct DialogBox {
  std::shared_ptr<browser::OpenDialog> dialog;
};

void push_dialog(lua_State* L, const std::shared_ptr<browser::OpenDialog>& dialog) {
  void* memory = lua_newuserdatauv(L, sizeof(DialogBox), 0);
  new (memory) DialogBox{dialog};
  luaL_setmetatable(L, kDialogMetatable);
}

// Raises a `script` error of `op` that says where the script called it.
int raise_script_error(lua_State* L, const char* op, const char* message) {
  push_plain_error(L, Kind::script, message, op);
  add_call_site(L);
  return lua_error(L);
}

int l_dialog_answer(lua_State* L, bool accept) {
  const char* op = accept ? "dialog:accept" : "dialog:dismiss";
  auto* box = static_cast<DialogBox*>(luaL_testudata(L, 1, kDialogMetatable));
  if (box == nullptr) {
    return raise_script_error(L, op,
                              accept ? "dialog:accept: expected a dialog (use d:accept())"
                                     : "dialog:dismiss: expected a dialog (use d:dismiss())");
  }
  if (accept && !lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TSTRING) {
    return raise_script_error(L, op, "dialog:accept: the prompt text must be a string");
  }
  bool answered = false;
  {
    const std::string text = accept && lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
    answered = accept ? box->dialog->accept(text) : box->dialog->dismiss();
  }
  if (!answered) {
    return raise_script_error(L, op,
                              accept ? "dialog:accept: the dialog was answered already"
                                     : "dialog:dismiss: the dialog was answered already");
  }
  return 0;
}

int l_dialog_accept(lua_State* L) { return l_dialog_answer(L, true); }
int l_dialog_dismiss(lua_State* L) { return l_dialog_answer(L, false); }

int l_dialog_index(lua_State* L) {
  auto* box = static_cast<DialogBox*>(luaL_checkudata(L, 1, kDialogMetatable));
  const std::string key = luaL_checkstring(L, 2);
  const browser::DialogInfo& info = box->dialog->info();
  if (key == "type") {
    lua_pushlstring(L, info.type.data(), info.type.size());
  } else if (key == "message") {
    lua_pushlstring(L, info.message.data(), info.message.size());
  } else if (key == "default") {
    lua_pushlstring(L, info.default_prompt.data(), info.default_prompt.size());
  } else if (key == "url") {
    lua_pushlstring(L, info.url.data(), info.url.size());
  } else if (key == "answered") {
    lua_pushboolean(L, box->dialog->answered() ? 1 : 0);
  } else if (key == "accept") {
    lua_pushcfunction(L, l_dialog_accept);
  } else if (key == "dismiss") {
    lua_pushcfunction(L, l_dialog_dismiss);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int l_dialog_tostring(lua_State* L) {
  auto* box = static_cast<DialogBox*>(luaL_checkudata(L, 1, kDialogMetatable));
  lua_pushfstring(L, "dialog(%s)", box->dialog->info().type.c_str());
  return 1;
}

int l_dialog_gc(lua_State* L) {
  static_cast<DialogBox*>(luaL_checkudata(L, 1, kDialogMetatable))->~DialogBox();
  return 0;
}

// ------------------------------------------------------------ subscriptions

struct SubscriptionBox {
  uint64_t id;
};

// What page:on registered in one runtime, and the handler calls queued per
// page.
class EventHandlers {
 public:
  explicit EventHandlers(Runtime& runtime)
      : runtime_(runtime), runtime_alive_(runtime.alive_token()) {}
  ~EventHandlers() { alive_.reset(); }

  static EventHandlers& of(lua_State* L);
  static EventHandlers* find(lua_State* L);

  // Takes the function on top of L's stack.
  uint64_t add(lua_State* L, const std::shared_ptr<browser::Page>& page, const std::string& name,
               const std::shared_ptr<TaskScope>& scope);
  bool remove(uint64_t id);
  void remove_all();
  const std::string* name_of(uint64_t id) const {
    auto it = subs_.find(id);
    return it == subs_.end() ? nullptr : &it->second.name;
  }

 private:
  struct Sub {
    std::string name;
    int fn_ref = LUA_NOREF;
    std::weak_ptr<browser::Page> page;
    const browser::Page* page_key = nullptr;
    uint64_t listener = 0;  // in the page's events; 0 for dialogs
    std::weak_ptr<TaskScope> scope;
    uint64_t scope_undo = 0;
  };
  struct Delivery {
    uint64_t sub = 0;
    json payload;
    std::shared_ptr<browser::OpenDialog> dialog;
    bool last_for_dialog = false;
  };
  struct PageQueue {
    std::deque<Delivery> pending;
    bool running = false;
  };

  // A page's handler calls run one at a time, its dialog handlers in a
  // line of their own: a dialog stops the page's scripts, so a handler
  // waiting on the page must not hold the dialog's handlers back.
  using QueueKey = std::pair<const browser::Page*, bool /*dialogs*/>;

  bool decide_dialog(const browser::Page* key, const std::shared_ptr<browser::OpenDialog>& dialog);
  void deliver(const browser::Page* key, Delivery delivery);
  void pump(const QueueKey& key);
  void handler_done(const QueueKey& key, const Delivery& delivery, lua_State* task,
                    const ResumeResult& result, bool scope_ended);

  Runtime& runtime_;
  std::weak_ptr<Runtime*> runtime_alive_;
  std::map<uint64_t, Sub> subs_;
  std::map<QueueKey, PageQueue> queues_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Pushes a handler and its event onto a fresh task, in protected mode: the
// memory cap may refuse the event's table, and this runs outside any call.
struct HandlerCall {
  int fn_ref;
  const json* payload;
  const std::shared_ptr<browser::OpenDialog>* dialog;
};

int push_handler_call_protected(lua_State* L) {
  const auto* call = static_cast<const HandlerCall*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, call->fn_ref);
  if (*call->dialog) {
    push_dialog(L, *call->dialog);
  } else {
    push_json(L, *call->payload);
  }
  return 2;
}

bool push_handler_call(lua_State* task, int fn_ref, const json& payload,
                       const std::shared_ptr<browser::OpenDialog>& dialog) {
  HandlerCall call{fn_ref, &payload, &dialog};
  lua_pushcfunction(task, push_handler_call_protected);
  lua_pushlightuserdata(task, &call);
  if (lua_pcall(task, 1, 2, 0) == LUA_OK) return true;
  lua_settop(task, 0);
  return false;
}

int l_handlers_gc(lua_State* L) {
  auto** handlers = static_cast<EventHandlers**>(lua_touserdata(L, 1));
  delete *handlers;
  *handlers = nullptr;
  return 0;
}

EventHandlers* EventHandlers::find(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kHandlersKey);
  auto** handlers = static_cast<EventHandlers**>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return handlers == nullptr ? nullptr : *handlers;
}

EventHandlers& EventHandlers::of(lua_State* L) {
  if (EventHandlers* found = find(L)) return *found;
  auto** memory = static_cast<EventHandlers**>(lua_newuserdatauv(L, sizeof(EventHandlers*), 0));
  *memory = nullptr;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_handlers_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  *memory = new EventHandlers(Runtime::from(L));
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kHandlersKey);
  return **memory;
}

uint64_t EventHandlers::add(lua_State* L, const std::shared_ptr<browser::Page>& page,
                            const std::string& name, const std::shared_ptr<TaskScope>& scope) {
  const uint64_t id = next_id_++;
  Sub sub;
  sub.name = name;
  sub.fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  sub.page = page;
  sub.page_key = page.get();
  sub.scope = scope;
  const browser::Page* key = page.get();
  std::weak_ptr<bool> alive = alive_;
  if (name == "dialog") {
    page->set_dialog_decider([this, alive, key](const std::shared_ptr<browser::OpenDialog>& d) {
      return !alive.expired() && decide_dialog(key, d);
    });
  } else {
    sub.listener = page->events().listen(name, [this, alive, key, id](const json& payload) {
      if (!alive.expired()) deliver(key, Delivery{id, payload, nullptr, false});
    });
  }
  sub.scope_undo = scope->on_end([this, alive, id] {
    if (!alive.expired()) remove(id);
  });
  subs_.emplace(id, std::move(sub));
  return id;
}

bool EventHandlers::remove(uint64_t id) {
  auto it = subs_.find(id);
  if (it == subs_.end()) return false;
  Sub sub = std::move(it->second);
  subs_.erase(it);
  if (auto page = sub.page.lock()) {
    if (sub.listener != 0) {
      page->events().unlisten(sub.listener);
    } else {
      bool other_dialog_handler = false;
      for (const auto& [other_id, other] : subs_) {
        if (other.page_key == sub.page_key && other.name == "dialog") other_dialog_handler = true;
      }
      if (!other_dialog_handler) page->set_dialog_decider(nullptr);
    }
  }
  if (auto scope = sub.scope.lock()) scope->drop(sub.scope_undo);
  // The registry slot only while the state lives: a runtime going away
  // closes it, and its references with it.
  if (!runtime_alive_.expired()) luaL_unref(runtime_.main(), LUA_REGISTRYINDEX, sub.fn_ref);
  return true;
}

void EventHandlers::remove_all() {
  while (!subs_.empty()) remove(subs_.begin()->first);
}

// Every dialog handler of the page gets the dialog, in the order they were
// added; the policy answers after the last one if none did.
bool EventHandlers::decide_dialog(const browser::Page* key,
                                  const std::shared_ptr<browser::OpenDialog>& dialog) {
  std::vector<uint64_t> ids;
  for (const auto& [id, sub] : subs_) {
    if (sub.page_key == key && sub.name == "dialog") ids.push_back(id);
  }
  if (ids.empty()) return false;
  for (size_t i = 0; i < ids.size(); ++i) {
    deliver(key, Delivery{ids[i], json(), dialog, i + 1 == ids.size()});
  }
  return true;
}

void EventHandlers::deliver(const browser::Page* page, Delivery delivery) {
  const QueueKey key{page, delivery.dialog != nullptr};
  queues_[key].pending.push_back(std::move(delivery));
  pump(key);
}

// Starts the page's next handler call unless one is running.
void EventHandlers::pump(const QueueKey& key) {
  auto q = queues_.find(key);
  if (q == queues_.end()) return;
  while (!q->second.running && !q->second.pending.empty()) {
    Delivery delivery = std::move(q->second.pending.front());
    q->second.pending.pop_front();
    auto sub = subs_.find(delivery.sub);
    std::shared_ptr<TaskScope> scope = sub == subs_.end() ? nullptr : sub->second.scope.lock();
    lua_State* task = scope && !scope->ended() ? runtime_.new_task() : nullptr;
    if (task == nullptr) {
      // Its subscription ended meanwhile (or no memory for a task): the
      // event goes to nobody, and a dialog to the policy.
      if (delivery.dialog && delivery.last_for_dialog) delivery.dialog->answer_by_policy();
      continue;
    }
    if (!push_handler_call(task, sub->second.fn_ref, delivery.payload, delivery.dialog)) {
      runtime_.state().end_task(task);
      runtime_.log("warn", "an event handler was not called: no memory left for its event");
      if (delivery.dialog && delivery.last_for_dialog) delivery.dialog->answer_by_policy();
      continue;
    }
    q->second.running = true;
    std::weak_ptr<bool> alive = alive_;
    std::weak_ptr<TaskScope> weak_scope = scope;
    runtime_.start_child(
        scope, task, 1,
        [this, alive, key, delivery, weak_scope](lua_State* t, const ResumeResult& result) {
          if (alive.expired()) return;
          auto s = weak_scope.lock();
          handler_done(key, delivery, t, result, !s || s->ended());
        });
    return;
  }
  if (q->second.pending.empty() && !q->second.running) queues_.erase(q);
}

void EventHandlers::handler_done(const QueueKey& key, const Delivery& delivery, lua_State* task,
                                 const ResumeResult& result, bool scope_ended) {
  auto sub = subs_.find(delivery.sub);
  const std::string name = sub != subs_.end() ? sub->second.name : "event";
  // Cancelled because the item ended is no failure of the handler's.
  if (result.status == ResumeStatus::error && !scope_ended) {
    Error error = to_error(task, -1);
    json params = {{"handler", "page:on('" + name + "')"},
                   {"event", name},
                   {"kind", std::string(kind_name(error.kind))},
                   {"message", error.message}};
    if (delivery.dialog) params["then"] = "the dialog policy answers";
    if (runtime_.hooks().event) {
      runtime_.hooks().event("handler_failed", params);
    } else {
      runtime_.log("warn", "handler_failed: " + params.dump());
    }
  }
  if (delivery.dialog && delivery.last_for_dialog) delivery.dialog->answer_by_policy();
  auto q = queues_.find(key);
  if (q == queues_.end()) return;
  q->second.running = false;
  pump(key);
}

int l_subscription_tostring(lua_State* L) {
  auto* box = static_cast<SubscriptionBox*>(luaL_checkudata(L, 1, kSubscriptionMetatable));
  EventHandlers* handlers = EventHandlers::find(L);
  const std::string* name = handlers != nullptr ? handlers->name_of(box->id) : nullptr;
  lua_pushfstring(L, "subscription(%s)", name != nullptr ? name->c_str() : "ended");
  return 1;
}

// page:on(name, fn) -> subscription
bool start_on(lua_State* L) {
  const char* op = "page:on";
  std::string name;
  if (!check_event_name(L, 2, op, &name)) return false;
  if (lua_type(L, 3) != LUA_TFUNCTION) {
    push_error(
        L, Error{Kind::script,
                 std::string(op) + ": the handler must be a function, not " + luaL_typename(L, 3),
                 op,
                 {}});
    return false;
  }
  browser::Page* page = live_page(L, 1, op);
  if (page == nullptr) return false;
  Runtime& runtime = Runtime::from(L);
  std::shared_ptr<TaskScope> scope = runtime.scope_of(L);
  if (!scope) {
    push_error(L, Error{Kind::script,
                        std::string(op) +
                            " cannot be called here: handlers belong to a task (run, a ladder "
                            "step, the console), not to a file's top level or a coroutine",
                        op,
                        {}});
    return false;
  }
  auto* handle = static_cast<PageHandle*>(lua_touserdata(L, 1));
  EventHandlers& handlers = EventHandlers::of(L);
  lua_settop(L, 3);
  const uint64_t id = handlers.add(L, handle->page.lock(), name, scope);  // pops the function
  auto* box = static_cast<SubscriptionBox*>(lua_newuserdatauv(L, sizeof(SubscriptionBox), 0));
  box->id = id;
  luaL_setmetatable(L, kSubscriptionMetatable);
  return true;
}

int l_on(lua_State* L) {
  if (!start_on(L)) {
    add_call_site(L);
    return lua_error(L);
  }
  return 1;
}

// page:off(subscription) -> true when it was still on
int l_off(lua_State* L) {
  bool ok = true;
  bool removed = false;
  if (live_page(L, 1, "page:off") == nullptr) {
    lua_pop(L, 1);  // a closed page's handlers can still be ended
  }
  auto* box = static_cast<SubscriptionBox*>(luaL_testudata(L, 2, kSubscriptionMetatable));
  if (box == nullptr) {
    ok = false;
    push_error(L, Error{Kind::script,
                        "page:off: expected a subscription (what page:on returned)",
                        "page:off",
                        {}});
  } else if (EventHandlers* handlers = EventHandlers::find(L)) {
    removed = handlers->remove(box->id);
  }
  if (!ok) {
    add_call_site(L);
    return lua_error(L);
  }
  lua_pushboolean(L, removed ? 1 : 0);
  return 1;
}

// ------------------------------------------------------------------- expect

// What page:expect collects while its action runs and after: the page's
// events of one name, in order, until it closes.
struct Watch {
  std::weak_ptr<browser::Page> page;
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

// The next event to look at, or a wait for one.
int expect_next(lua_State* L) {
  Watch& watch = watch_at(L);
  lua_settop(L, kWatch);
  if (!watch.events.empty()) {
    {
      json event = std::move(watch.events.front());
      watch.events.pop_front();
      push_json(L, event);
    }
    if (lua_isnil(L, kPredicate)) {
      watch.close();
      return 1;
    }
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
    if (step == after_predicate && lua_toboolean(L, -1)) {
      watch.close();
      lua_settop(L, kCandidate);
      return 1;
    }
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

int l_expect(lua_State* L) {
  if (!start_expect(L)) {
    add_call_site(L);
    return lua_error(L);
  }
  lua_pushvalue(L, 4);
  return expect_step(L, lua_pcallk(L, 0, 0, 0, after_action, expect_step), after_action);
}

}  // namespace

void add_event_methods(std::vector<luaL_Reg>* methods) {
  methods->push_back({"on", l_on});
  methods->push_back({"off", l_off});
  methods->push_back({"expect", l_expect});
}

void register_event_types(lua_State* L) {
  // A locked metatable with the given metamethods (nullptr: none).
  const auto metatable = [L](const char* name, lua_CFunction index, lua_CFunction gc,
                             lua_CFunction tostring) {
    luaL_newmetatable(L, name);
    const std::pair<const char*, lua_CFunction> methods[] = {
        {"__index", index}, {"__gc", gc}, {"__tostring", tostring}};
    for (const auto& [field, fn] : methods) {
      if (fn == nullptr) continue;
      lua_pushcfunction(L, fn);
      lua_setfield(L, -2, field);
    }
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  };
  metatable(kDialogMetatable, l_dialog_index, l_dialog_gc, l_dialog_tostring);
  metatable(kSubscriptionMetatable, nullptr, nullptr, l_subscription_tostring);
  metatable(kWatchMetatable, nullptr, l_watch_gc, nullptr);
}

void end_all_subscriptions(Runtime& runtime) {
  if (EventHandlers* handlers = EventHandlers::find(runtime.main())) handlers->remove_all();
}

}  // namespace belay::lua
