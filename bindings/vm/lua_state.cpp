#include "vm/lua_state.hpp"

#include <new>
#include <stdexcept>
#include <utility>

#include "vm/error_value.hpp"
#include "vm/quota.hpp"
#include "vm/sandbox.hpp"
#include "vm/script_coroutines.hpp"
#include "vm/state_data.hpp"

namespace belay::lua {
namespace {

int set_up_state(lua_State* L) {
  register_error(L);
  register_quota(L);
  install_sandbox(L);
  return 0;
}

int create_task_thread(lua_State* L) {
  lua_newthread(L);
  lua_pushvalue(L, -1);
  lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
  return 2;
}

}  // namespace

// --- LuaState ---------------------------------------------------------------

LuaState::LuaState(Limits limits) : context_(std::make_unique<Context>()) {
  context_->limits = limits;
  main_ = lua_newstate(capped_allocate, context_.get());
  if (main_ == nullptr) throw std::bad_alloc();
  // Every thread copies the main thread's extra space, so all reach it.
  *static_cast<Context**>(lua_getextraspace(main_)) = context_.get();
  set_quota_hook(main_, limits.hook_every);
  lua_pushcfunction(main_, set_up_state);
  if (lua_pcall(main_, 0, 0, 0) != LUA_OK) {
    lua_close(main_);
    throw std::runtime_error("cannot set up the Lua state");
  }
}

LuaState::~LuaState() { lua_close(main_); }

const Limits& LuaState::limits() const { return context_->limits; }

size_t LuaState::bytes_in_use() const { return context_->bytes; }

void LuaState::set_log(LogFunction log) { context_->log = std::move(log); }

lua_State* LuaState::new_task() {
  lua_pushcfunction(main_, create_task_thread);
  if (lua_pcall(main_, 0, 2, 0) != LUA_OK) {
    lua_pop(main_, 1);
    return nullptr;
  }
  lua_State* thread = lua_tothread(main_, -2);
  Task& task = context_->tasks[thread];
  task.thread = thread;
  task.ref = static_cast<int>(lua_tointeger(main_, -1));
  lua_pop(main_, 2);
  // lua_newthread copies the creator's hook; set it anyway, it is the quota.
  set_quota_hook(thread, context_->limits.hook_every);
  return thread;
}

ResumeResult LuaState::resume(lua_State* task, int nargs, uint64_t budget) {
  auto found = context_->tasks.find(task);
  if (found == context_->tasks.end()) return {ResumeStatus::error, 0};
  Task& record = found->second;
  record.instructions = 0;
  record.budget = budget != 0 ? budget : context_->limits.slice_instructions;
  const bool tripped = record.trip != Trip::none;
  set_quota_hook(task, tripped ? 1 : context_->limits.hook_every);
  Task* previous = context_->current;
  context_->current = &record;
  context_->failed.pending = false;
  int nresults = 0;
  const int status = lua_resume(task, nullptr, nargs, &nresults);
  confirm_unretried_failure(*context_);
  context_->current = previous;
  return settle(task, status, nresults);
}

ResumeResult LuaState::settle(lua_State* task, int status, int nresults) {
  const Task& record = context_->tasks.at(task);
  if (record.trip == Trip::none && (status == LUA_OK || status == LUA_YIELD)) {
    return {status == LUA_YIELD ? ResumeStatus::yielded : ResumeStatus::finished, nresults};
  }
  replace_top_with_error(task, status, nresults);
  return {ResumeStatus::error, 1};
}

// Leaves the task's error table on top of its stack. Built on the main
// thread (no call can run on a dead coroutine) in protected mode, then moved.
void LuaState::replace_top_with_error(lua_State* task, int status, int nresults) {
  const Task& record = context_->tasks.at(task);
  const bool failed = status != LUA_OK && status != LUA_YIELD;
  belay::Error error;
  if (record.trip != Trip::none) {
    // Fresh: a __close handler may have scribbled on the one raised inside.
    error = quota_error(*context_, record);
  } else if (is_error(task, -1)) {
    return;
  } else {
    error = to_error(task, -1);
  }
  if (!failed) lua_pop(task, nresults);
  if (!lua_checkstack(task, 1)) return;
  push_error(main_, error);
  lua_xmove(main_, task, 1);
}

ResumeResult LuaState::run_top_level(lua_State* task, std::string_view source,
                                     const char* chunkname) {
  if (load_sandboxed(task, source, chunkname) != LUA_OK) return {ResumeStatus::error, 1};
  return resume(task, 0, context_->limits.top_level_instructions);
}

void LuaState::end_task(lua_State* task) {
  auto found = context_->tasks.find(task);
  if (found == context_->tasks.end()) return;
  if (context_->current == &found->second) context_->current = nullptr;
  forget_waits_of(task);
  luaL_unref(main_, LUA_REGISTRYINDEX, found->second.error_ref);
  luaL_unref(main_, LUA_REGISTRYINDEX, found->second.ref);
  context_->tasks.erase(found);
}

uint64_t LuaState::instructions_used(lua_State* task) const {
  auto found = context_->tasks.find(task);
  return found != context_->tasks.end() ? found->second.instructions : 0;
}

bool LuaState::tripped(lua_State* task) const {
  auto found = context_->tasks.find(task);
  return found != context_->tasks.end() && found->second.trip != Trip::none;
}

}  // namespace belay::lua
