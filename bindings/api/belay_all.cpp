#include "api/belay_all.hpp"

#include "vm/error_value.hpp"
#include "vm/runtime.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace belay::lua {
namespace {

// One belay.all call: its sibling tasks, and the registry table their
// results go to ({first value of each, [n + 1] = the first error}).
struct AllCall {
  std::weak_ptr<Runtime*> runtime;
  CallSlot slot;
  std::vector<lua_State*> siblings;
  std::vector<bool> ended;
  int results_ref = LUA_NOREF;
  bool failed = false;
};

Error cancelled_because(const char* why) { return Error{Kind::cancelled, why, "belay.all", {}}; }

void cancel_running(AllCall& all, Runtime& runtime, const char* why) {
  for (size_t i = 0; i < all.siblings.size(); ++i) {
    if (!all.ended[i]) runtime.cancel_task(all.siblings[i], cancelled_because(why));
  }
}

// Every sibling has ended: the caller gets (true, values...) or (false,
// the first error) through the continuation.
void finish(const std::shared_ptr<AllCall>& all, Runtime& runtime) {
  const int ref = all->results_ref;
  const int n = static_cast<int>(all->siblings.size());
  if (!all->slot.active()) {
    luaL_unref(runtime.main(), LUA_REGISTRYINDEX, ref);
    return;
  }
  const bool failed = all->failed;
  all->slot.succeed([ref, n, failed](lua_State* S) {
    lua_rawgeti(S, LUA_REGISTRYINDEX, ref);
    luaL_unref(S, LUA_REGISTRYINDEX, ref);
    const int results = lua_gettop(S);
    luaL_checkstack(S, n + 2, "belay.all: too many results");
    lua_pushboolean(S, failed ? 0 : 1);
    if (failed) {
      lua_rawgeti(S, results, n + 1);
    } else {
      for (int i = 1; i <= n; ++i) lua_rawgeti(S, results, i);
    }
    lua_remove(S, results);
    return lua_gettop(S) - results + 1;
  });
}

// Keeps what sibling `index` gave: its first result, or its error when it
// is the first (the others are then cancelled).
void sibling_ended(const std::shared_ptr<AllCall>& all, size_t index, lua_State* task,
                   const ResumeResult& result) {
  auto alive = all->runtime.lock();
  if (!alive) return;
  Runtime& runtime = **alive;
  all->ended[index] = true;
  lua_State* M = runtime.main();
  const int n = static_cast<int>(all->siblings.size());
  // The table's array part was made for n + 1 values: these sets allocate
  // nothing, so nothing here can raise.
  if (lua_checkstack(M, 2) != 0) {
    lua_rawgeti(M, LUA_REGISTRYINDEX, all->results_ref);
    if (result.status == ResumeStatus::finished && result.nresults > 0 && !all->failed) {
      lua_settop(task, lua_gettop(task) - result.nresults + 1);
      lua_xmove(task, M, 1);
      lua_rawseti(M, -2, static_cast<lua_Integer>(index) + 1);
    } else if (result.status == ResumeStatus::error && !all->failed) {
      all->failed = true;
      lua_xmove(task, M, 1);
      lua_rawseti(M, -2, n + 1);
      cancel_running(*all, runtime, "belay.all: another function failed first");
    }
    lua_pop(M, 1);
  }
  if (std::find(all->ended.begin(), all->ended.end(), false) == all->ended.end()) {
    finish(all, runtime);
  }
}

// Starts the siblings. Lua's own allocations come first, while no C++
// object is alive to be skipped by a memory error; a refusal is pushed by
// the caller, after this frame's objects are gone. Returns false when the
// call could not begin (begin_call pushed why) or sets `out_of_memory`.
bool start_all(lua_State* L, int n, bool* out_of_memory) {
  Runtime& runtime = Runtime::from(L);
  lua_createtable(L, n + 1, 0);
  const int results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  std::vector<lua_State*> siblings;
  for (int i = 1; i <= n; ++i) {
    lua_State* task = runtime.new_task();
    if (task == nullptr) break;
    lua_pushvalue(L, i);
    lua_xmove(L, task, 1);
    siblings.push_back(task);
  }
  *out_of_memory = siblings.size() != static_cast<size_t>(n);
  auto slot = *out_of_memory ? std::optional<CallSlot>{} : runtime.begin_call(L, "belay.all");
  auto scope = slot ? runtime.scope_of(L) : nullptr;
  if (!slot || !scope || scope->ended()) {
    for (lua_State* task : siblings) runtime.state().end_task(task);
    luaL_unref(L, LUA_REGISTRYINDEX, results_ref);
    if (!slot) return false;
    // The task's scope ended (its item is over): the call ends at once.
    slot->fail(Error{Kind::cancelled, "belay.all: the caller's task has ended", "", {}});
    return true;
  }
  auto all = std::make_shared<AllCall>();
  all->runtime = runtime.alive_token();
  all->slot = *slot;
  all->siblings = siblings;
  all->ended.assign(siblings.size(), false);
  all->results_ref = results_ref;
  runtime.on_call_abandoned(*slot, [all]() {
    if (auto alive = all->runtime.lock()) cancel_running(*all, **alive, "belay.all was cancelled");
  });
  for (size_t i = 0; i < siblings.size(); ++i) {
    runtime.start_child(scope, siblings[i], 0,
                        [all, i](lua_State* task, const ResumeResult& result) {
                          sibling_ended(all, i, task, result);
                        });
  }
  return true;
}

// After the wait: the call's own (ok, error) as any call's, then the
// siblings' (true, values...) or (false, the first error as it was raised).
int all_continuation(lua_State* L, int /*status*/, lua_KContext base) {
  const int ok_index = static_cast<int>(base) + 1;
  if (lua_toboolean(L, ok_index) == 0 || lua_toboolean(L, ok_index + 1) == 0) {
    lua_settop(L, lua_toboolean(L, ok_index) == 0 ? ok_index + 1 : ok_index + 2);
    return lua_error(L);
  }
  return lua_gettop(L) - ok_index - 1;
}

// Pushes belay.all's own error, naming the script's line.
void push_refusal(lua_State* L, const std::string& what, Kind kind = Kind::script) {
  push_error(L, Error{kind, "belay.all: " + what, "belay.all", {}});
  add_call_site(L);
}

}  // namespace

int belay_all(lua_State* L) {
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    if (lua_type(L, i) != LUA_TFUNCTION) {
      push_refusal(
          L, "argument " + std::to_string(i) + " is a " + luaL_typename(L, i) + ", not a function");
      return lua_error(L);
    }
  }
  if (n == 0) return 0;
  bool out_of_memory = false;
  if (!start_all(L, n, &out_of_memory)) {
    if (out_of_memory) {
      push_refusal(L, "out of memory for its tasks", Kind::sandbox);
    } else {
      add_call_site(L);
    }
    return lua_error(L);
  }
  return lua_yieldk(L, 0, lua_gettop(L), all_continuation);
}

}  // namespace belay::lua
