#pragma once
// One sandboxed Lua state per profile, and the quotas that keep a script from
// stopping the host (DESIGN.md "Hot reload and sandbox"):
//
//  - memory: a capped allocator. Past Limits::memory_bytes an allocation
//    fails (so C functions such as string.rep are bounded too) and the
//    running task is marked as having tripped its memory quota.
//  - instructions: a count hook charges the running task; past its budget
//    the task trips. Each host resume starts a fresh budget (a "slice");
//    coroutine.resume inside the script does not.
//
// A tripped task cannot recover: the hook re-raises at every instruction and
// the sandbox's pcall/xpcall/coroutine functions re-raise instead of
// returning the error. It ends when its coroutine ends; resume() then reports
// a `sandbox` error table ("instruction quota exceeded: ..." or "memory
// quota exceeded: ...").
//
// Script code runs only as tasks: coroutines the host resumes from the loop.
// Code the host runs on the main thread outside a task has no budget.
//
// The quotas themselves live in quota.hpp, the sandbox's guarded functions
// in guards.hpp; this class owns the state and its tasks.

#include <cstddef>
#include <cstdint>
#include <lua.hpp>
#include <memory>
#include <string_view>

#include "vm/limits.hpp"

namespace belay::lua {

enum class ResumeStatus { yielded, finished, error };

// After `error`, the task's stack top (index -1) holds the error table
// (nresults == 1; 0 only for a task LuaState does not know). After
// `yielded`/`finished`, the top nresults values are the yielded
// values/results.
struct ResumeResult {
  ResumeStatus status = ResumeStatus::error;
  int nresults = 0;
};

struct Context;  // state_data.hpp: limits, bytes in use, tasks

class LuaState {
 public:
  explicit LuaState(Limits limits = {});
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;
  LuaState(LuaState&&) = delete;
  LuaState& operator=(LuaState&&) = delete;

  // The main thread, for host set-up (registering bindings). Never run
  // script code on it: only tasks have budgets.
  lua_State* main() const { return main_; }
  const Limits& limits() const;
  size_t bytes_in_use() const;
  void set_log(LogFunction log);

  // A new coroutine anchored in the registry; the caller pushes the function
  // and its arguments onto it. nullptr if even that cannot be allocated.
  lua_State* new_task();
  // Resumes `task` with a fresh instruction budget (0 = slice_instructions).
  ResumeResult resume(lua_State* task, int nargs, uint64_t budget = 0);
  // Loads `source` (text only, fresh sandbox env) onto `task` and runs its
  // top level with the short top_level_instructions budget. A syntax error
  // is a `script` error. If the top level yields, later resumes are the
  // caller's, with whatever budget it passes.
  ResumeResult run_top_level(lua_State* task, std::string_view source, const char* chunkname);
  // Releases the task's anchor; its coroutine is collected with the rest.
  // A dead task's to-be-closed variables are not run (they would run outside
  // any budget).
  void end_task(lua_State* task);

  // Instructions charged to `task` in its current (or last) slice.
  uint64_t instructions_used(lua_State* task) const;
  bool tripped(lua_State* task) const;

 private:
  ResumeResult settle(lua_State* task, int status, int nresults);
  void replace_top_with_error(lua_State* task, int status, int nresults);

  std::unique_ptr<Context> context_;
  lua_State* main_ = nullptr;
};

}  // namespace belay::lua
