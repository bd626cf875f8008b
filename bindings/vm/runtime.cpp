#include "vm/runtime.hpp"

#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/script_coroutines.hpp"

#include <cstdio>

namespace belay::lua {
namespace {

const char kRuntimeKey = 0;  // registry: light userdata -> Runtime*

// Runs a PushResults on the main thread in protected mode, so a memory
// error while building results becomes an error value, not a panic.
int push_trampoline(lua_State* L) {
  auto* push = static_cast<PushResults*>(lua_touserdata(L, 1));
  lua_remove(L, 1);
  return (*push)(L);
}

// The continuation of every browser call: the resume passes (true, ...)
// or (false, error table).
int call_continuation(lua_State* L, int /*status*/, lua_KContext base) {
  const int ok_index = static_cast<int>(base) + 1;
  if (!lua_toboolean(L, ok_index)) {
    lua_settop(L, ok_index + 1);
    return lua_error(L);
  }
  return lua_gettop(L) - ok_index;
}

}  // namespace

void CallSlot::succeed(PushResults push) const {
  if (auto rt = runtime_.lock()) (*rt)->complete(task_, id_, true, std::move(push), {});
}

void CallSlot::succeed_json(nlohmann::json value) const {
  succeed([value = std::move(value)](lua_State* L) {
    if (value.is_null()) {
      lua_pushnil(L);
    } else {
      push_json(L, value);
    }
    return 1;
  });
}

void CallSlot::succeed_none() const {
  succeed([](lua_State*) { return 0; });
}

void CallSlot::fail(Error error) const {
  // The host names what it did (a CDP method, "launch"); the script called
  // a binding, and that is the name its error carries (page:click).
  if (!op_.empty()) error.op = op_;
  if (auto rt = runtime_.lock()) (*rt)->complete(task_, id_, false, nullptr, std::move(error));
}

void CallSlot::finish(Result<nlohmann::json> result) const {
  if (result.ok()) {
    succeed_json(std::move(result.value()));
  } else {
    fail(std::move(result.error()));
  }
}

bool CallSlot::active() const {
  auto rt = runtime_.lock();
  if (!rt) return false;
  auto it = (*rt)->tasks_.find(task_);
  return it != (*rt)->tasks_.end() && it->second.call_id == id_;
}

Runtime::Runtime(uv_loop_t* loop, Limits limits)
    : loop_(loop), state_(limits), self_(std::make_shared<Runtime*>(this)) {
  lua_pushlightuserdata(main(), this);
  lua_rawsetp(main(), LUA_REGISTRYINDEX, &kRuntimeKey);
  uv_idle_init(loop_, drainer_.get());
  drainer_->data = this;
}

Runtime::~Runtime() {
  self_.reset();
  // Operations still running (a sleep's timer) give their resources back;
  // their tasks are never resumed.
  for (auto& [task, info] : tasks_) {
    if (info.release) info.release();
  }
}

void Runtime::log(std::string_view level, std::string_view message) {
  if (hooks_.log) {
    hooks_.log(level, message);
    return;
  }
  std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(level.size()), level.data(),
               static_cast<int>(message.size()), message.data());
}

Runtime& Runtime::from(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kRuntimeKey);
  auto* runtime = static_cast<Runtime*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *runtime;
}

void Runtime::start(lua_State* task, int nargs, TaskDone done, std::shared_ptr<TaskScope> scope) {
  TaskInfo& info = tasks_[task];
  info.done = std::move(done);
  info.owns_scope = !scope;
  info.scope = scope ? std::move(scope) : std::make_shared<TaskScope>();
  enqueue(Ready{task, 0, nargs, true, nullptr, {}});
}

void Runtime::start_child(const std::shared_ptr<TaskScope>& scope, lua_State* task, int nargs,
                          TaskDone done) {
  if (!scope || scope->ended()) {
    state_.end_task(task);
    return;
  }
  TaskInfo& info = tasks_[task];
  info.done = std::move(done);
  info.scope = scope;
  std::weak_ptr<Runtime*> alive = self_;
  info.scope_undo = scope->on_end([this, alive, task] {
    if (alive.expired()) return;
    auto it = tasks_.find(task);
    if (it == tasks_.end()) return;
    it->second.scope_undo = 0;
    cancel_call(task, Error{Kind::cancelled, "the task that started this one has ended", "", {}});
  });
  enqueue(Ready{task, 0, nargs, true, nullptr, {}});
}

std::shared_ptr<TaskScope> Runtime::scope_of(lua_State* L) const {
  bool yieldable = true;
  lua_State* task = host_task_of(L, &yieldable);
  auto it = task == nullptr ? tasks_.end() : tasks_.find(task);
  return it == tasks_.end() ? nullptr : it->second.scope;
}

std::optional<CallSlot> Runtime::begin_call(lua_State* L, const char* op) {
  // A call in a coroutine the script created belongs to the task that is
  // resuming it (script_coroutines.hpp).
  bool yieldable = true;
  lua_State* task = host_task_of(L, &yieldable);
  auto it = task == nullptr ? tasks_.end() : tasks_.find(task);
  if (it == tasks_.end()) {
    // Where, in the message: at a file's top level nothing else names the line.
    const std::string where = script_position(L);
    push_error(L, Error{Kind::script,
                        (where.empty() ? "" : where + ": ") + op +
                            " cannot be called here: browser calls run only inside run, a "
                            "ladder step, a handler or the console (and coroutines those "
                            "resume), not at a file's top level",
                        op,
                        {}});
    return std::nullopt;
  }
  if (!yieldable) {
    push_error(
        L, Error{Kind::script,
                 std::string(op) + " cannot be called here: a function that a C function calls (a "
                                   "table.sort comparator, a string.gsub replacement, __tostring, "
                                   "__gc) cannot wait; __index, __call, arithmetic metamethods and "
                                   "for-loop iterators can",
                 op,
                 {}});
    return std::nullopt;
  }
  TaskInfo& info = it->second;
  if (info.cancelled) {
    Error why = *info.cancelled;
    why.op = op;
    push_error(L, why);
    return std::nullopt;
  }
  if (info.scope && info.scope->ended() && !info.owns_scope) {
    push_error(L, Error{Kind::cancelled,
                        std::string(op) + " cannot start: the task that started this handler "
                                          "has ended",
                        op,
                        {}});
    return std::nullopt;
  }
  if (L != task && !mark_waiting(L, task)) {
    push_error(L, Error{Kind::sandbox, std::string(op) + ": out of memory to wait", op, {}});
    return std::nullopt;
  }
  info.call_id = next_call_id_++;
  info.waiting = true;
  info.op = op;
  info.where = script_position(L);
  info.release = nullptr;
  CallSlot slot;
  slot.runtime_ = self_;
  slot.task_ = task;
  slot.id_ = info.call_id;
  slot.op_ = op;
  return slot;
}

int Runtime::yield_call(lua_State* L) { return lua_yieldk(L, 0, lua_gettop(L), call_continuation); }

void Runtime::on_call_abandoned(const CallSlot& slot, std::function<void()> release) {
  auto it = tasks_.find(slot.task_);
  if (it != tasks_.end() && it->second.call_id == slot.id_) it->second.release = std::move(release);
}

bool Runtime::cancel_call(lua_State* task, Error why) {
  auto it = tasks_.find(task);
  if (it == tasks_.end() || it->second.call_id == 0) return false;
  if (why.op.empty()) why.op = it->second.op;
  std::function<void()> release = std::move(it->second.release);
  complete(task, it->second.call_id, false, nullptr, std::move(why));
  if (release) release();
  return true;
}

bool Runtime::cancel_task(lua_State* task, Error why) {
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return false;
  if (!it->second.cancelled) it->second.cancelled = why;
  cancel_call(task, std::move(why));
  return true;
}

void Runtime::cancel_all(const Error& why) {
  std::vector<lua_State*> waiting;
  for (auto& [task, info] : tasks_) {
    if (info.call_id != 0) waiting.push_back(task);
  }
  for (lua_State* task : waiting) cancel_call(task, why);
}

void Runtime::complete(lua_State* task, uint64_t id, bool ok, PushResults push, Error error) {
  auto it = tasks_.find(task);
  // The first completion wins; a late reply, a second timeout or a
  // completion after cancel finds the call already gone.
  if (it == tasks_.end() || it->second.call_id != id || id == 0) return;
  TaskInfo& info = it->second;
  info.call_id = 0;
  info.release = nullptr;
  if (!ok) {
    if (error.op.empty()) error.op = info.op;
    if (!info.where.empty()) error.message += " (at " + info.where + ")";
  }
  enqueue(Ready{task, id, 0, ok, std::move(push), std::move(error)});
}

void Runtime::enqueue(Ready ready) {
  ready_.push_back(std::move(ready));
  if (!draining_) {
    uv_idle_start(drainer_.get(), [](uv_idle_t* idle) {
      if (idle->data != nullptr) static_cast<Runtime*>(idle->data)->drain();
    });
  }
}

void Runtime::drain() {
  uv_idle_stop(drainer_.get());
  // Only what is ready now: completions queued while these run wait for the
  // next loop turn, so I/O is never starved by a busy script.
  std::deque<Ready> batch;
  batch.swap(ready_);
  std::weak_ptr<Runtime*> alive = self_;
  draining_ = true;
  for (Ready& ready : batch) {
    resume_ready(ready);
    if (alive.expired()) return;
  }
  draining_ = false;
  if (!ready_.empty()) {
    uv_idle_start(drainer_.get(), [](uv_idle_t* idle) {
      if (idle->data != nullptr) static_cast<Runtime*>(idle->data)->drain();
    });
  }
}

void Runtime::resume_ready(Ready& ready) {
  lua_State* task = ready.task;
  if (tasks_.count(task) == 0) return;
  if (ready.call_id == 0) {
    after_resume(task, state_.resume(task, ready.nargs));
    return;
  }
  tasks_[task].waiting = false;
  lua_State* L = main();
  const int base = lua_gettop(L);
  lua_pushboolean(L, ready.ok ? 1 : 0);
  if (ready.ok) {
    lua_pushcfunction(L, push_trampoline);
    lua_pushlightuserdata(L, &ready.push);
    if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) {
      Error error = to_error(L, -1);
      lua_settop(L, base);
      lua_pushboolean(L, 0);
      push_error(L, error);
    }
  } else {
    push_error(L, ready.error);
  }
  const int n = lua_gettop(L) - base;
  if (lua_checkstack(task, n) == 0) {
    lua_settop(L, base);
    lua_pushboolean(L, 0);
    push_error(L, Error{Kind::sandbox, "out of stack for the call's results", "", {}});
  }
  lua_xmove(L, task, lua_gettop(L) - base);
  after_resume(task, state_.resume(task, n));
}

void Runtime::after_resume(lua_State* task, const ResumeResult& result) {
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return;
  if (result.status == ResumeStatus::yielded) {
    // Waiting on a call — which may already have completed (a synchronous
    // answer, or a refusal) and sit in the ready queue.
    if (it->second.waiting) return;
    // A bare yield at the task's top: let the loop breathe, then go on.
    lua_pop(task, result.nresults);
    enqueue(Ready{task, 0, 0, true, nullptr, {}});
    return;
  }
  TaskDone done = std::move(it->second.done);
  std::shared_ptr<TaskScope> scope = std::move(it->second.scope);
  const bool owns_scope = it->second.owns_scope;
  if (scope && !owns_scope && it->second.scope_undo != 0) scope->drop(it->second.scope_undo);
  tasks_.erase(it);
  std::weak_ptr<Runtime*> alive = self_;
  // A host task's end undoes what its script registered (subscriptions)
  // and cancels its handlers before its owner hears of the end.
  if (scope && owns_scope) scope->end();
  if (alive.expired()) return;
  if (done) done(task, result);
  if (alive.expired()) return;
  state_.end_task(task);
}

}  // namespace belay::lua
