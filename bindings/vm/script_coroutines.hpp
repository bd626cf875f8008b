#pragma once
// Coroutines the script creates, and browser calls made inside them (the
// OpenResty way). A call made in a script coroutine suspends it, and its
// resumer passes the wait up: every coroutine between it and its host task
// yields, then the task yields to the host as for any call. The reply
// resumes the task, whose coroutine.resume (or wrap) resumes the next
// coroutine down with it, until the one that made the call gets its
// results. So a `coroutine.wrap` iterator can call `page:evaluate`.
//
// While a coroutine waits on a call it belongs to that call: resuming or
// closing it from elsewhere (another task that holds it) is refused.
//
// The script's coroutine.resume, wrap and close are these (guards.cpp puts
// them in the sandbox); they also re-raise a tripped quota and refuse the
// host's own tasks.

#include <lua.hpp>

namespace belay::lua {

// coroutine.resume, coroutine.wrap and coroutine.close for scripts.
int script_resume(lua_State* L);
int script_wrap(lua_State* L);
int script_close(lua_State* L);

// The host task that runs `L` (a task itself, or a script coroutine some
// chain of resumes leads to from one); nullptr when none does (a file's top
// level, the main thread). `yieldable` says whether every coroutine on the
// way can yield: a call can only wait if it is true.
lua_State* host_task_of(lua_State* L, bool* yieldable);
// Marks the script coroutine `co` (not a host task) as waiting on a call
// its task `task` made for it, so that its resumer passes the wait up. Runs
// no Lua; false when memory for the mark cannot be found.
bool mark_waiting(lua_State* co, lua_State* task);
// Forgets the waits of `task`'s coroutines (the task ended).
void forget_waits_of(lua_State* task);

}  // namespace belay::lua
