#include "api/page_events.hpp"

#include "api/dialog_object.hpp"

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
const char kHandlersKey = 0;  // registry: the runtime's EventHandlers

// Names page:on knows but this version does not deliver yet.
bool undelivered(const std::string& name) { return name == "download" || name == "popup"; }

}  // namespace

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

namespace {

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

}  // namespace

void add_event_methods(std::vector<luaL_Reg>* methods) {
  methods->push_back({"on", l_on});
  methods->push_back({"off", l_off});
  methods->push_back({"expect", l_page_expect});
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
  register_dialog_type(L);
  metatable(kSubscriptionMetatable, nullptr, nullptr, l_subscription_tostring);
  register_expect_type(L);
}

void end_all_subscriptions(Runtime& runtime) {
  if (EventHandlers* handlers = EventHandlers::find(runtime.main())) handlers->remove_all();
}

}  // namespace belay::lua
