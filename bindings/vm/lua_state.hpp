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

#include <cstddef>
#include <cstdint>
#include <functional>
#include <lua.hpp>
#include <memory>
#include <string_view>

namespace belay::lua {

struct Limits {
  size_t memory_bytes = 256u << 20;
  uint64_t slice_instructions = 200'000'000;
  uint64_t top_level_instructions = 20'000'000;
  int hook_every = 1000;
};

enum class ResumeStatus { yielded, finished, error };

// After `error`, the task's stack top (index -1) holds the error table
// (nresults == 1; 0 only for a task LuaState does not know). After
// `yielded`/`finished`, the top nresults values are the yielded
// values/results.
struct ResumeResult {
  ResumeStatus status = ResumeStatus::error;
  int nresults = 0;
};

// Where print() goes (one line per call, without the newline).
using LogFunction = std::function<void(std::string_view line)>;

struct Context;  // limits, bytes in use, tasks; reachable from every thread

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

// --- For the sandbox's quota-aware functions and for bindings ------------

// True when the running task has tripped a quota (a memory failure Lua did
// not retry is confirmed here first).
bool task_tripped(lua_State* L);
// Raises the running task's quota error table. Never returns.
int raise_quota_error(lua_State* L);
// Charges `count` instructions of C-side work (e.g. table.move's loop) to
// the running task; raises its quota error when that exhausts the budget.
void charge_instructions(lua_State* L, uint64_t count);
// True if `thread` is a host task's own coroutine: scripts must not resume,
// wrap or close those (that would hijack another item's async call).
bool is_task_thread(lua_State* L, lua_State* thread);
// True if `thread` is the coroutine of the task running right now.
bool is_running_task(lua_State* L);
// True if the coroutine at `idx` died from an error raised inside the count
// hook: Lua leaves such a coroutine with hooks disabled, so closing it would
// run its __close handlers with no budget.
bool stopped_by_quota_hook(lua_State* L, int idx);
// Sends one line to the state's log (print).
void log_line(lua_State* L, std::string_view line);

// Quota-aware replacements for the base library's pcall and xpcall, and a
// coroutine library whose resume/wrap/close re-raise a tripped quota and
// refuse host tasks (yield and isyieldable treat the task as the top level).
int guarded_pcall(lua_State* L);
int guarded_xpcall(lua_State* L);
void push_guarded_coroutine_lib(lua_State* L);

}  // namespace belay::lua
