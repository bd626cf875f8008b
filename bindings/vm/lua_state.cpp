#include "vm/lua_state.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "vm/error_value.hpp"
#include "vm/sandbox.hpp"

namespace belay::lua {

enum class Trip { none, instructions, memory };

struct Task {
  lua_State* thread = nullptr;
  int ref = LUA_NOREF;
  int error_ref = LUA_NOREF;  // the quota error raised inside, once built
  uint64_t instructions = 0;
  uint64_t budget = 0;
  Trip trip = Trip::none;
};

// An allocation refused for the cap, until we know whether Lua retries it.
struct FailedRequest {
  bool pending = false;
  const void* block = nullptr;
  size_t old_size = 0;
  size_t new_size = 0;
  int64_t at_ns = 0;  // thread CPU time when the emergency collection starts
};

struct Context {
  Limits limits;
  size_t bytes = 0;
  size_t low_water = 0;  // lowest use seen since the last forced collection
  FailedRequest failed;
  Task* current = nullptr;  // the task the host is resuming right now
  std::unordered_map<const lua_State*, Task> tasks;
  LogFunction log;
};

namespace {

// Above the cap, for host code and for a tripped task: room to build error
// tables and unwind, so a quota failure never becomes a host panic.
constexpr size_t kErrorReserve = 1u << 20;
// A call charges this many instructions: a C loop that calls a C function
// per element (e.g. table.concat with __index = table.concat) runs no VM
// instruction, so the call hook is what bounds it.
constexpr uint64_t kCallCost = 10;
constexpr int kHookMask = LUA_MASKCOUNT | LUA_MASKCALL;
// Collections a script causes (Lua's emergency ones at the cap, and those
// relieve_memory_pressure forces) are charged as instructions at this rate:
// a script living at its cap would otherwise make the host collect forever.
constexpr int64_t kNanosecondsPerInstruction = 5;
const char kHookKilledKey = 0;  // registry: weak set of hook-killed threads

Context* context_of(lua_State* L) { return *static_cast<Context**>(lua_getextraspace(L)); }

Task* running_task(lua_State* L) {
  Context* context = context_of(L);
  return context != nullptr ? context->current : nullptr;
}

void trip(Context& context, Trip why) {
  if (context.current != nullptr && context.current->trip == Trip::none)
    context.current->trip = why;
}

// Lua retries a failed allocation of its own once, with the same arguments,
// after an emergency full GC; lauxlib's buffers (string.rep, table.concat)
// do not retry. So a refused request trips the task when its retry fails
// too, or when anything else is requested (or a checkpoint is reached)
// first. Garbage alone therefore never trips a task.
void confirm_unretried_failure(Context& context) {
  if (!context.failed.pending) return;
  context.failed.pending = false;
  trip(context, Trip::memory);
}

// CPU time, not wall time: being preempted on a busy machine is not the
// script's doing.
int64_t cpu_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void charge_collection(Context& context, int64_t started_ns) {
  context.low_water = std::min(context.low_water, context.bytes);
  if (context.current == nullptr) return;
  const int64_t spent_ns = std::max<int64_t>(0, cpu_now_ns() - started_ns);
  context.current->instructions += static_cast<uint64_t>(spent_ns / kNanosecondsPerInstruction);
}

bool is_retry(const FailedRequest& failed, const void* block, size_t old_size, size_t new_size) {
  return failed.pending && failed.block == block && failed.old_size == old_size &&
         failed.new_size == new_size;
}

size_t allocation_limit(const Context& context) {
  const bool capped = context.current != nullptr && context.current->trip == Trip::none;
  return capped ? context.limits.memory_bytes : context.limits.memory_bytes + kErrorReserve;
}

void* allocate(void* ud, void* block, size_t old_size, size_t new_size) {
  Context& context = *static_cast<Context*>(ud);
  const size_t in_use = block != nullptr ? old_size : 0;  // else old_size is a type tag
  if (new_size <= in_use) {
    if (new_size == 0) {
      std::free(block);
      context.bytes -= in_use;
      return nullptr;
    }
    void* shrunk = std::realloc(block, new_size);
    if (shrunk != nullptr) context.bytes -= in_use - new_size;
    return shrunk;
  }
  const bool retry = is_retry(context.failed, block, old_size, new_size);
  if (!retry) confirm_unretried_failure(context);
  context.failed.pending = false;
  const size_t growth = new_size - in_use;
  if (retry) charge_collection(context, context.failed.at_ns);
  if (context.bytes + growth > allocation_limit(context)) {
    if (retry) {
      trip(context, Trip::memory);
    } else {
      context.failed = FailedRequest{true, block, old_size, new_size, cpu_now_ns()};
    }
    return nullptr;
  }
  void* grown = std::realloc(block, new_size);
  if (grown != nullptr) context.bytes += growth;
  return grown;
}

belay::Error quota_error(const Context& context, const Task& task) {
  belay::Error error;
  error.kind = belay::Kind::sandbox;
  if (task.trip == Trip::memory) {
    error.message =
        "memory quota exceeded: " + std::to_string(context.limits.memory_bytes) + " bytes cap";
  } else {
    error.message = "instruction quota exceeded: script ran " + std::to_string(task.instructions) +
                    " instructions without yielding";
  }
  return error;
}

// Built once per task and re-raised as is, so re-raising needs no memory.
// Returns before anyone raises: the Error's strings are gone by then.
void push_quota_error(lua_State* L, Context& context, Task& task) {
  if (task.error_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, task.error_ref);
    return;
  }
  push_error(L, quota_error(context, task));
  lua_pushvalue(L, -1);
  task.error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

// A coroutine killed by an error raised in a hook keeps hooks disabled
// (Lua restores them only where a pcall catches); remember it, so nobody
// later runs its __close handlers with no budget (see guarded_close).
void mark_hook_killed(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kHookKilledKey);
  lua_pushthread(L);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// lauxlib's buffers (string.rep, table.concat, string.format) allocate with
// no emergency collection, so near the cap garbage alone would fail them.
// Collect first once use is past halfway from its low point to the cap. The
// hook also runs on every call, so this happens on the way into those
// functions. Within cap/16 of the cap it stops: what little a collection
// could free is not worth a full one per allocation.
void relieve_memory_pressure(lua_State* L, Context& context) {
  const size_t cap = context.limits.memory_bytes;
  context.low_water = std::min(context.low_water, context.bytes);
  const size_t low = std::min(context.low_water, cap);
  const size_t trigger = std::max(cap / 2, low + std::max((cap - low) / 2, cap / 16));
  if (context.bytes <= trigger) return;
  const int64_t started_ns = cpu_now_ns();
  lua_gc(L, LUA_GCCOLLECT);
  context.low_water = context.bytes;
  charge_collection(context, started_ns);
}

void count_hook(lua_State* L, lua_Debug* event) {
  Context* context = context_of(L);
  Task* task = context->current;
  if (task == nullptr) return;  // host code on the main thread: no budget
  confirm_unretried_failure(*context);
  if (task->trip == Trip::none) {
    const int every = lua_gethookcount(L);
    task->instructions += event->event == LUA_HOOKCOUNT ? static_cast<uint64_t>(every) : kCallCost;
    // A coroutine made by a tripped task inherited a count of 1.
    if (every != context->limits.hook_every) {
      lua_sethook(L, count_hook, kHookMask, context->limits.hook_every);
    }
    relieve_memory_pressure(L, *context);
    if (task->instructions <= task->budget) return;
    task->trip = Trip::instructions;
  }
  lua_sethook(L, count_hook, kHookMask, 1);  // from now on, every instruction
  mark_hook_killed(L);
  raise_quota_error(L);
}

int set_up_state(lua_State* L) {
  register_error(L);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kHookKilledKey);
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
  main_ = lua_newstate(allocate, context_.get());
  if (main_ == nullptr) throw std::bad_alloc();
  // Every thread copies the main thread's extra space, so all reach it.
  *static_cast<Context**>(lua_getextraspace(main_)) = context_.get();
  lua_sethook(main_, count_hook, kHookMask, limits.hook_every);
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
  lua_sethook(thread, count_hook, kHookMask, context_->limits.hook_every);
  return thread;
}

ResumeResult LuaState::resume(lua_State* task, int nargs, uint64_t budget) {
  auto found = context_->tasks.find(task);
  if (found == context_->tasks.end()) return {ResumeStatus::error, 0};
  Task& record = found->second;
  record.instructions = 0;
  record.budget = budget != 0 ? budget : context_->limits.slice_instructions;
  const bool tripped = record.trip != Trip::none;
  lua_sethook(task, count_hook, kHookMask, tripped ? 1 : context_->limits.hook_every);
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

// --- Quota primitives for the sandbox and bindings -----------------------------

bool task_tripped(lua_State* L) {
  Context* context = context_of(L);
  if (context == nullptr || context->current == nullptr) return false;
  confirm_unretried_failure(*context);
  return context->current->trip != Trip::none;
}

int raise_quota_error(lua_State* L) {
  Context* context = context_of(L);
  push_quota_error(L, *context, *context->current);
  return lua_error(L);
}

void charge_instructions(lua_State* L, uint64_t count) {
  Task* task = running_task(L);
  if (task == nullptr) return;
  if (task->trip == Trip::none) {
    task->instructions += count;
    if (task->instructions <= task->budget && task->instructions >= count) return;
    task->trip = Trip::instructions;
  }
  raise_quota_error(L);
}

bool is_task_thread(lua_State* L, lua_State* thread) {
  Context* context = context_of(L);
  return context != nullptr && context->tasks.count(thread) != 0;
}

bool is_running_task(lua_State* L) {
  Task* task = running_task(L);
  return task != nullptr && task->thread == L;
}

bool stopped_by_quota_hook(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kHookKilledKey) != LUA_TTABLE) {
    lua_pop(L, 1);
    return false;
  }
  lua_pushvalue(L, idx);
  const bool killed = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return killed;
}

void log_line(lua_State* L, std::string_view line) {
  Context* context = context_of(L);
  if (context == nullptr || !context->log) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    return;
  }
  try {
    context->log(line);
  } catch (...) {
    // An exception must not unwind through Lua's C frames; a lost log line is
    // the lesser harm.
  }
}

// --- Quota-aware pcall, xpcall and coroutine library --------------------------

namespace {

int finish_guarded_pcall(lua_State* L, int status, lua_KContext extra) {
  if (task_tripped(L)) return raise_quota_error(L);
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - static_cast<int>(extra);
}

// Once the task has tripped, the script's handler is not run: the error goes
// back untouched and xpcall re-raises it.
int guarded_message_handler(lua_State* L) {
  if (task_tripped(L)) return 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

lua_State* check_script_coroutine(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  luaL_argexpected(L, co != nullptr, 1, "coroutine");
  if (is_task_thread(L, co)) {
    raise_error(L, belay::Kind::sandbox, "a script cannot resume or close a host task");
  }
  return co;
}

// Calls the original library function (upvalue 1) with this call's arguments.
int call_original(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  if (task_tripped(L)) return raise_quota_error(L);
  return lua_gettop(L);
}

int guarded_resume(lua_State* L) {
  check_script_coroutine(L);
  return call_original(L);
}

int guarded_close(lua_State* L) {
  check_script_coroutine(L);
  if (task_tripped(L)) return raise_quota_error(L);
  if (stopped_by_quota_hook(L, 1)) {
    lua_pushboolean(L, 0);
    push_plain_error(
        L, belay::Kind::sandbox,
        "the coroutine was stopped by a quota; its to-be-closed variables are not run");
    return 2;
  }
  return call_original(L);
}

// As coroutine.wrap's error path, except that a coroutine stopped by a
// quota is not closed: Lua would run its __close handlers with hooks off.
int raise_wrapped_error(lua_State* L, lua_State* co, int status) {
  lua_xmove(co, L, 1);
  const int co_status = lua_status(co);
  if (co_status != LUA_OK && co_status != LUA_YIELD) {
    lua_pushvalue(L, lua_upvalueindex(1));
    const bool killed = stopped_by_quota_hook(L, -1);
    lua_pop(L, 1);
    if (!killed) {
      status = lua_resetthread(co);  // runs its to-be-closed variables
      lua_xmove(co, L, 1);
    }
  }
  if (task_tripped(L)) return raise_quota_error(L);
  if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

int call_wrapped(lua_State* L) {
  lua_State* co = lua_tothread(L, lua_upvalueindex(1));
  const int nargs = lua_gettop(L);
  if (!lua_checkstack(co, nargs)) return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, nargs);
  int nresults = 0;
  const int status = lua_resume(co, L, nargs, &nresults);
  if (task_tripped(L)) return raise_quota_error(L);
  if (status != LUA_OK && status != LUA_YIELD) return raise_wrapped_error(L, co, status);
  if (!lua_checkstack(L, nresults + 1)) {
    lua_pop(co, nresults);
    return luaL_error(L, "too many results to resume");
  }
  lua_xmove(co, L, nresults);
  return nresults;
}

int guarded_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, call_wrapped, 1);
  return 1;
}

// The task's own coroutine is the script's top level: yielding it would hand
// the host values it never asked for.
int guarded_yield(lua_State* L) {
  if (is_running_task(L)) {
    return raise_error(L, belay::Kind::script, "attempt to yield from outside a coroutine");
  }
  return lua_yield(L, lua_gettop(L));
}

int guarded_isyieldable(lua_State* L) {
  lua_State* co = lua_isnone(L, 1) ? L : lua_tothread(L, 1);
  luaL_argexpected(L, co != nullptr, 1, "coroutine");
  lua_pushboolean(L, lua_isyieldable(co) && !is_task_thread(L, co));
  return 1;
}

void set_guarded(lua_State* L, const char* name, lua_CFunction guard) {
  lua_getfield(L, -2, name);
  lua_pushcclosure(L, guard, 1);
  lua_setfield(L, -2, name);
}

}  // namespace

int guarded_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  const int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_guarded_pcall);
  return finish_guarded_pcall(L, status, 0);
}

int guarded_xpcall(lua_State* L) {
  const int nargs = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, guarded_message_handler, 1);
  lua_replace(L, 2);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);  // true and the function go below the arguments
  const int status = lua_pcallk(L, nargs - 2, LUA_MULTRET, 2, 2, finish_guarded_pcall);
  return finish_guarded_pcall(L, status, 2);
}

void push_guarded_coroutine_lib(lua_State* L) {
  luaL_requiref(L, "coroutine", luaopen_coroutine, 0);
  lua_createtable(L, 0, 8);
  for (const char* name : {"create", "status", "running"}) {
    lua_getfield(L, -2, name);
    lua_setfield(L, -2, name);
  }
  set_guarded(L, "resume", guarded_resume);
  set_guarded(L, "close", guarded_close);
  lua_pushcfunction(L, guarded_wrap);
  lua_setfield(L, -2, "wrap");
  lua_pushcfunction(L, guarded_yield);
  lua_setfield(L, -2, "yield");
  lua_pushcfunction(L, guarded_isyieldable);
  lua_setfield(L, -2, "isyieldable");
  lua_remove(L, -2);
}

}  // namespace belay::lua
