#pragma once
// The async bridge (OpenResty cosockets, Neovim's rule): a binding that talks
// to the browser starts the C++ operation, remembers the calling task, and
// yields. The reply, the deadline or the disconnect completes the call
// exactly once — the first wins, the rest are dropped — and the task is
// resumed from the loop (an idle handle draining ready completions), never
// from inside a transport callback and never while Lua is running.
//
// One Runtime per profile: one LuaState, many tasks (coroutines) at once.

#include "core/error.hpp"
#include "core/uv_handle.hpp"
#include "vm/error_value.hpp"
#include "vm/lua_state.hpp"
#include "vm/task_scope.hpp"

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace belay::lua {

class Runtime;

// Pushes a call's results onto the task and returns how many it pushed. Runs
// inside a protected call, so it may raise (memory) without harm.
using PushResults = std::function<int(lua_State*)>;

// What a C++ operation holds to complete the Lua call that started it.
// Copyable; completing after the runtime or the call is gone does nothing.
class CallSlot {
 public:
  CallSlot() = default;
  void succeed(PushResults push) const;
  void succeed_json(nlohmann::json value) const;  // one value (nil for null)
  void succeed_none() const;
  void fail(Error error) const;
  // Completes with the JSON value or raises the error.
  void finish(Result<nlohmann::json> result) const;
  bool active() const;

 private:
  friend class Runtime;
  std::weak_ptr<Runtime*> runtime_;
  lua_State* task_ = nullptr;
  uint64_t id_ = 0;
  std::string op_;  // the binding's name, e.g. "page:click"
};

// What scripts reach of the host besides the browser: the folders of their
// files, default timeouts, where belay.log lines and ctx:event events end up.
struct HostHooks {
  // The state dir, the campaign's folder and its `files` folders, absolute:
  // where captures go and uploads come from (api/script_files.hpp). An
  // empty campaign_dir: no campaign (a console of its own).
  std::string state_dir = ".";
  std::string campaign_dir;
  std::vector<std::string> file_dirs;
  // Timeouts of calls whose opts name none: the campaign's `timeouts`.
  uint64_t action_timeout_ms = 10000;
  uint64_t navigation_timeout_ms = 30000;
  uint64_t call_timeout_ms = 30000;
  std::function<void(std::string_view level, std::string_view message)> log;
  std::function<void(const std::string& name, const nlohmann::json& params)> event;
};

class Runtime {
 public:
  using TaskDone = std::function<void(lua_State* task, const ResumeResult& result)>;

  Runtime(uv_loop_t* loop, Limits limits = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  static Runtime& from(lua_State* L);
  LuaState& state() { return state_; }
  lua_State* main() const { return state_.main(); }
  uv_loop_t* loop() const { return loop_; }
  HostHooks& hooks() { return hooks_; }
  // Expires when the runtime goes: for objects that must not outlive it.
  std::weak_ptr<Runtime*> alive_token() const { return self_; }
  // A log line through hooks().log, or stderr when no hook is set.
  void log(std::string_view level, std::string_view message);

  // A task: the caller pushes the function and `nargs` arguments onto
  // new_task()'s stack, then start()s it. It first runs from the loop.
  // `done` sees the results (or the error table) on the task's stack before
  // the task is released.
  lua_State* new_task() { return state_.new_task(); }
  // A task of the host's (an item, a snippet): it opens a scope of its own,
  // which ends when the task does — or it joins `scope`, which its owner
  // ends (the console's lines share one).
  void start(lua_State* task, int nargs, TaskDone done, std::shared_ptr<TaskScope> scope = nullptr);
  // A task started for the script's own work (an event handler): it shares
  // `scope`, and when that scope ends its pending call is cancelled and it
  // may start no other. A scope already ended: the task is not started and
  // `done` is not called.
  void start_child(const std::shared_ptr<TaskScope>& scope, lua_State* task, int nargs,
                   TaskDone done);
  // The scope of the task running in L (or resuming the script coroutine
  // L); nullptr when there is none.
  std::shared_ptr<TaskScope> scope_of(lua_State* L) const;
  size_t running_tasks() const { return tasks_.size(); }

  // For bindings: starts a call from the task running in L, or from a
  // coroutine the script created that such a task is resuming (the call is
  // then the task's, and the coroutine's resumers wait with it). When the
  // caller cannot wait (no host task, or not yieldable here) it pushes
  // an error table and returns nullopt; the binding then raises it once its
  // C++ objects are gone. Otherwise the binding starts its operation and
  // returns yield_call(L).
  std::optional<CallSlot> begin_call(lua_State* L, const char* op);
  static int yield_call(lua_State* L);
  // Runs `release` if the call ends before its operation does (cancel,
  // shutdown), e.g. to stop a timer.
  void on_call_abandoned(const CallSlot& slot, std::function<void()> release);

  // Ends the task's pending call now with `why` (Ctrl-C, reload, shutdown).
  bool cancel_call(lua_State* task, Error why);
  // Cancels the task: its pending call ends with `why`, and every call it
  // begins after fails with `why` at once (belay.all's siblings after one
  // failed). False when `task` is no running task.
  bool cancel_task(lua_State* task, Error why);
  // Cancels every pending call (shutdown).
  void cancel_all(const Error& why);

 private:
  friend class CallSlot;
  struct TaskInfo {
    TaskDone done;
    uint64_t call_id = 0;            // the call the task is suspended in, 0 if none
    bool waiting = false;            // began a call and was not resumed for it yet
    std::string op;                  // what it waits on, for cancel messages
    std::string where;               // script position of that call
    std::optional<Error> cancelled;  // cancel_task: every later call fails so
    std::function<void()> release;
    std::shared_ptr<TaskScope> scope;
    bool owns_scope = false;  // a host task: its end ends the scope
    uint64_t scope_undo = 0;  // a child: its entry in the scope
  };
  struct Ready {
    lua_State* task;
    uint64_t call_id;  // 0: a first resume
    int nargs;         // first resume only
    bool ok;
    PushResults push;  // ok: results
    Error error;       // !ok
  };

  void enqueue(Ready ready);
  void drain();
  void resume_ready(Ready& ready);
  void after_resume(lua_State* task, const ResumeResult& result);
  void complete(lua_State* task, uint64_t id, bool ok, PushResults push, Error error);

  uv_loop_t* loop_;
  HostHooks hooks_;
  LuaState state_;
  std::shared_ptr<Runtime*> self_;
  UvHandle<uv_idle_t> drainer_;
  std::deque<Ready> ready_;
  std::unordered_map<lua_State*, TaskInfo> tasks_;
  uint64_t next_call_id_ = 1;
  bool draining_ = false;
};

}  // namespace belay::lua

// A yielding binding is its start_NAME helper (checks, begins the call,
// starts the C++ operation; false with an error table pushed) plus a raise
// or a yield, so no C++ object is alive in the frame that longjmps (Debian's
// Lua is built as C).
#define BELAY_YIELDING_BINDING(name)             \
  int l_##name(lua_State* L) {                   \
    if (!start_##name(L)) {                      \
      ::belay::lua::add_call_site(L);            \
      return lua_error(L);                       \
    }                                            \
    return ::belay::lua::Runtime::yield_call(L); \
  }
