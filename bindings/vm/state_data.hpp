#pragma once
// The host data behind one LuaState: its limits, the bytes its allocator has
// handed out, and its tasks. Internal to vm/: LuaState owns it, the
// allocator and count hook (quota.cpp) and print (guards.cpp) reach it from
// any thread of the state through the extra space.

#include <lua.hpp>

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "vm/limits.hpp"

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
  // Script coroutines (script_coroutines.hpp): who is resuming each right
  // now, and those waiting on a browser call, with the task that made it.
  std::unordered_map<const lua_State*, lua_State*> resumers;
  std::unordered_map<const lua_State*, lua_State*> waiting;
  LogFunction log;
};

// Every thread copies the main thread's extra space, which LuaState points
// at its Context, so any thread of the state reaches it.
inline Context* context_of(lua_State* L) { return *static_cast<Context**>(lua_getextraspace(L)); }

}  // namespace belay::lua
