#include "vm/quota.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "vm/error_value.hpp"
#include "vm/state_data.hpp"

namespace belay::lua {
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

Task* running_task(lua_State* L) {
  Context* context = context_of(L);
  return context != nullptr ? context->current : nullptr;
}

void trip(Context& context, Trip why) {
  if (context.current != nullptr && context.current->trip == Trip::none)
    context.current->trip = why;
}

// The thread's user CPU time, not wall time: being preempted on a busy
// machine is not the script's doing. Nor is the kernel's part (the page
// faults behind a collection): it varies tenfold between machines (two
// thirds of a collection's time in a sandboxed kernel), so a script that
// passes on one would trip on another.
int64_t cpu_now_ns() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<int64_t>(usage.ru_utime.tv_sec) * 1'000'000'000 +
         static_cast<int64_t>(usage.ru_utime.tv_usec) * 1'000;
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

}  // namespace

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

void* capped_allocate(void* ud, void* block, size_t old_size, size_t new_size) {
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

namespace {

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

}  // namespace

void set_quota_hook(lua_State* thread, int every) {
  lua_sethook(thread, count_hook, kHookMask, every);
}

void register_quota(lua_State* L) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kHookKilledKey);
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

void reserve_memory(lua_State* L, size_t bytes) {
  Context* context = context_of(L);
  if (context == nullptr || context->current == nullptr) return;
  if (context->current->trip == Trip::none) {
    const size_t limit = allocation_limit(*context);
    if (context->bytes <= limit && bytes <= limit - context->bytes) return;
    trip(*context, Trip::memory);
  }
  raise_quota_error(L);
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

}  // namespace belay::lua
