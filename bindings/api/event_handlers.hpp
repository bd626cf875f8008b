#pragma once
// The handler calls of page:on (page_events.cpp), one registry per runtime:
// what each subscription calls, and a queue per page so that a page's
// handlers run one at a time, in the order the page told, each as a task of
// its own started from the loop. A dialog's handlers have a line of their
// own and the dialog policy answers after the last if none did.

#include "browser/browser_session.hpp"
#include "browser/dialog.hpp"
#include "browser/page.hpp"
#include "vm/runtime.hpp"
#include "vm/task_scope.hpp"

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace belay::lua {

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
  uint64_t add(lua_State* L, const std::shared_ptr<browser::Page>& page,
               std::weak_ptr<browser::BrowserSession> session, const std::string& name,
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
    std::weak_ptr<browser::BrowserSession> session;  // whose pages popups are
    uint64_t listener = 0;  // in the page's events; 0 for dialogs
    std::weak_ptr<TaskScope> scope;
    uint64_t scope_undo = 0;
    // On `p` only while that page lives: a page opened later at the
    // address of a closed one must not get the closed one's handlers.
    bool is_on(const browser::Page* p) const {
      auto live = page.lock();
      return live && live.get() == p;
    }
  };
  struct Delivery {
    uint64_t sub = 0;
    nlohmann::json payload;
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

}  // namespace belay::lua
