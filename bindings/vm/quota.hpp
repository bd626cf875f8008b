#pragma once
// The memory and instruction quotas of a LuaState (lua_state.hpp tells the
// rules): the capped allocator, the count hook that charges the running
// task, and the primitives the sandbox's functions and bindings use to
// charge work and re-raise a tripped quota.

#include <lua.hpp>

#include <cstddef>
#include <cstdint>

#include "core/error.hpp"

namespace belay::lua {

struct Context;  // state_data.hpp
struct Task;

// --- For the sandbox's quota-aware functions and for bindings ------------

// True when the running task has tripped a quota (a memory failure Lua did
// not retry is confirmed here first).
bool task_tripped(lua_State* L);
// Raises the running task's quota error table. Never returns.
int raise_quota_error(lua_State* L);
// Charges `count` instructions of C-side work (e.g. table.move's loop) to
// the running task; raises its quota error when that exhausts the budget.
void charge_instructions(lua_State* L, uint64_t count);
// For a C function that knows the size of what it is about to build (as
// string.rep): raises the running task's memory quota error when `bytes`
// more would not fit under its cap, before Lua's own size limits can turn
// the breach into a plain error ("resulting string too large").
void reserve_memory(lua_State* L, size_t bytes);
// True if `thread` is a host task's own coroutine: scripts must not resume,
// wrap or close those (that would hijack another item's async call).
bool is_task_thread(lua_State* L, lua_State* thread);
// True if `thread` is the coroutine of the task running right now.
bool is_running_task(lua_State* L);
// True if the coroutine at `idx` died from an error raised inside the count
// hook: Lua leaves such a coroutine with hooks disabled, so closing it would
// run its __close handlers with no budget.
bool stopped_by_quota_hook(lua_State* L, int idx);

// --- For LuaState ------------------------------------------------------------

// The state's lua_Alloc; `ud` is its Context.
void* capped_allocate(void* ud, void* block, size_t old_size, size_t new_size);
// Sets the count hook (every `every` instructions, and on each call) on
// `thread`: this is what charges it.
void set_quota_hook(lua_State* thread, int every);
// Creates the registry data the hook keeps (the set of hook-killed threads).
// Runs in protected mode at set-up.
void register_quota(lua_State* L);
// A refused allocation Lua did not retry trips the running task.
void confirm_unretried_failure(Context& context);
// The error a tripped task ends with.
belay::Error quota_error(const Context& context, const Task& task);

}  // namespace belay::lua
