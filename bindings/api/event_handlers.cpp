#include "api/event_handlers.hpp"

#include "api/dialog_object.hpp"
#include "api/page_events.hpp"
#include "browser/page_events.hpp"
#include "core/uv_handle.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

namespace belay::lua {
namespace {

using nlohmann::json;

const char kHandlersKey = 0;  // registry: the runtime's EventHandlers

// Pushes a handler and its event onto a fresh task, in protected mode: the
// memory cap may refuse the event's table, and this runs outside any call.
struct HandlerCall {
  int fn_ref;
  const std::string* name;
  const json* payload;
  const std::shared_ptr<browser::OpenDialog>* dialog;
  const std::shared_ptr<browser::BrowserSession>* session;
};

int push_handler_call_protected(lua_State* L) {
  const auto* call = static_cast<const HandlerCall*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, call->fn_ref);
  if (*call->dialog) {
    push_dialog(L, *call->dialog);
  } else {
    push_event_payload(L, *call->name, *call->payload, *call->session);
  }
  return 2;
}

bool push_handler_call(lua_State* task, int fn_ref, const std::string& name, const json& payload,
                       const std::shared_ptr<browser::OpenDialog>& dialog,
                       const std::shared_ptr<browser::BrowserSession>& session) {
  HandlerCall call{fn_ref, &name, &payload, &dialog, &session};
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

}  // namespace

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
                            std::weak_ptr<browser::BrowserSession> session, const std::string& name,
                            const std::shared_ptr<TaskScope>& scope) {
  const uint64_t id = next_id_++;
  Sub sub;
  sub.name = name;
  sub.fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  sub.page = page;
  sub.session = std::move(session);
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
        if (other.is_on(page.get()) && other.name == "dialog") other_dialog_handler = true;
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
    if (sub.is_on(key) && sub.name == "dialog") ids.push_back(id);
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
    if (!push_handler_call(task, sub->second.fn_ref, sub->second.name, delivery.payload,
                           delivery.dialog, sub->second.session.lock())) {
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

}  // namespace belay::lua
