#include "vm/script_coroutines.hpp"

#include "vm/error_value.hpp"
#include "vm/quota.hpp"
#include "vm/state_data.hpp"

namespace belay::lua {
namespace {

// How a resume hands back what the coroutine gave: as coroutine.resume
// (true, values... or false, error) or as a wrap function (the values, or
// the error raised).
enum Mode : int { kResume = 0, kWrap = 1 };

const char* kWaitsMessage = "cannot resume or close a coroutine that waits on a browser call";

bool waits_on_call(lua_State* L, lua_State* co) {
  Context* context = context_of(L);
  return context != nullptr && context->waiting.count(co) != 0;
}

lua_State* check_script_coroutine(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  luaL_argexpected(L, co != nullptr, 1, "coroutine");
  if (is_task_thread(L, co)) {
    raise_error(L, belay::Kind::sandbox, "a script cannot resume or close a host task");
  }
  return co;
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

int refuse(lua_State* L, int mode, const char* message) {
  if (mode == kWrap) return luaL_error(L, "%s", message);
  lua_pushboolean(L, 0);
  lua_pushstring(L, message);
  return 2;
}

int resume_step(lua_State* L, lua_State* co, int nargs, int mode);

// L resumes here when the call one of the coroutines below it waits on has
// completed: the results (the call's ok flag and values) go down to `co`.
int resume_continuation(lua_State* L, int /*status*/, lua_KContext ctx) {
  const int mode = static_cast<int>(ctx);
  lua_State* co = mode == kResume ? lua_tothread(L, 1) : lua_tothread(L, lua_upvalueindex(1));
  const int base = mode == kResume ? 1 : 0;
  context_of(L)->waiting.erase(co);
  return resume_step(L, co, lua_gettop(L) - base, mode);
}

// Resumes `co` with the top `nargs` values of L. When it yields because a
// call inside it waits, L waits with it; otherwise its values (or error)
// are handed back as `mode` says.
int resume_step(lua_State* L, lua_State* co, int nargs, int mode) {
  Context* context = context_of(L);
  if (!lua_checkstack(co, nargs)) {
    lua_pop(L, nargs);
    return refuse(L, mode, "too many arguments to resume");
  }
  try {
    context->resumers[co] = L;
  } catch (...) {
    lua_pop(L, nargs);
    return raise_error(L, belay::Kind::sandbox, "out of memory to resume a coroutine");
  }
  lua_xmove(L, co, nargs);
  int nresults = 0;
  const int status = lua_resume(co, L, nargs, &nresults);
  context->resumers.erase(co);
  if (task_tripped(L)) return raise_quota_error(L);
  auto waiting = context->waiting.find(co);
  if (status == LUA_YIELD && waiting != context->waiting.end()) {
    lua_pop(co, nresults);
    // A script coroutine in turn makes its own resumer wait; the host task
    // yields to the host, which resumes it when the call completes.
    if (context->tasks.count(L) == 0 && !mark_waiting(L, waiting->second)) {
      return raise_error(L, belay::Kind::sandbox, "out of memory to wait on a call");
    }
    return lua_yieldk(L, 0, mode, resume_continuation);
  }
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nresults + 1)) {
      lua_pop(co, nresults);
      return refuse(L, mode, "too many results to resume");
    }
    if (mode == kResume) lua_pushboolean(L, 1);
    lua_xmove(co, L, nresults);
    return nresults + (mode == kResume ? 1 : 0);
  }
  if (mode == kWrap) return raise_wrapped_error(L, co, status);
  lua_pushboolean(L, 0);
  lua_xmove(co, L, 1);
  return 2;
}

int call_wrapped(lua_State* L) {
  lua_State* co = lua_tothread(L, lua_upvalueindex(1));
  if (waits_on_call(L, co)) return refuse(L, kWrap, kWaitsMessage);
  return resume_step(L, co, lua_gettop(L), kWrap);
}

}  // namespace

int script_resume(lua_State* L) {
  lua_State* co = check_script_coroutine(L);
  if (waits_on_call(L, co)) return refuse(L, kResume, kWaitsMessage);
  return resume_step(L, co, lua_gettop(L) - 1, kResume);
}

int script_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, call_wrapped, 1);
  return 1;
}

// upvalue 1: the library's coroutine.close.
int script_close(lua_State* L) {
  lua_State* co = check_script_coroutine(L);
  if (task_tripped(L)) return raise_quota_error(L);
  if (waits_on_call(L, co)) return refuse(L, kResume, kWaitsMessage);
  if (stopped_by_quota_hook(L, 1)) {
    lua_pushboolean(L, 0);
    push_plain_error(
        L, belay::Kind::sandbox,
        "the coroutine was stopped by a quota; its to-be-closed variables are not run");
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  if (task_tripped(L)) return raise_quota_error(L);
  return lua_gettop(L);
}

lua_State* host_task_of(lua_State* L, bool* yieldable) {
  *yieldable = true;
  Context* context = context_of(L);
  if (context == nullptr) return nullptr;
  lua_State* at = L;
  while (at != nullptr) {
    if (lua_isyieldable(at) == 0) *yieldable = false;
    if (context->tasks.count(at) != 0) return at;
    auto resumer = context->resumers.find(at);
    at = resumer == context->resumers.end() ? nullptr : resumer->second;
  }
  return nullptr;
}

bool mark_waiting(lua_State* co, lua_State* task) {
  try {
    context_of(co)->waiting[co] = task;
    return true;
  } catch (...) {
    return false;
  }
}

void forget_waits_of(lua_State* task) {
  Context* context = context_of(task);
  if (context == nullptr) return;
  for (auto it = context->waiting.begin(); it != context->waiting.end();) {
    it = it->second == task ? context->waiting.erase(it) : std::next(it);
  }
}

}  // namespace belay::lua
