#include "vm/guards.hpp"

#include <cstdint>
#include <cstdio>

#include "vm/error_value.hpp"
#include "vm/quota.hpp"
#include "vm/script_coroutines.hpp"
#include "vm/state_data.hpp"

namespace belay::lua {

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
  lua_pushcfunction(L, script_resume);
  lua_setfield(L, -2, "resume");
  set_guarded(L, "close", script_close);
  lua_pushcfunction(L, script_wrap);
  lua_setfield(L, -2, "wrap");
  lua_pushcfunction(L, guarded_yield);
  lua_setfield(L, -2, "yield");
  lua_pushcfunction(L, guarded_isyieldable);
  lua_setfield(L, -2, "isyieldable");
  lua_remove(L, -2);
}

// --- print ---------------------------------------------------------------------

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

int sandbox_print(lua_State* L) {
  const int nargs = lua_gettop(L);
  luaL_Buffer line;
  luaL_buffinit(L, &line);
  for (int i = 1; i <= nargs; ++i) {
    if (i > 1) luaL_addchar(&line, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&line);
  }
  luaL_pushresult(&line);
  size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  log_line(L, std::string_view(text, length));
  return 0;
}

// --- guarded library functions -------------------------------------------------------

// string.rep of an empty string and separator loops n times producing
// nothing: no instruction, no allocation, no quota would ever see it.
int sandbox_string_rep(lua_State* L) {  // upvalue 1: string.rep
  size_t length = 0;
  size_t separator = 0;
  luaL_checklstring(L, 1, &length);
  const lua_Integer count = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &separator);
  if (count <= 0 || length + separator == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  // The result's size, saturating: past the cap it is a quota breach
  // (sandbox), whatever Lua's own limit would have called it.
  const size_t unit = length + separator;
  const auto n = static_cast<size_t>(count);
  const size_t bytes = n > SIZE_MAX / unit ? SIZE_MAX : n * unit - separator;
  reserve_memory(L, bytes);
  return forward_to_original(L);
}

namespace {

// As ltablib's checktab: a table, or a value whose metatable has them all.
void check_table_like(lua_State* L, int arg) {
  if (lua_type(L, arg) == LUA_TTABLE) return;
  if (lua_getmetatable(L, arg) != 0) {
    const int metatable = lua_gettop(L);
    const bool usable = has_raw_field(L, metatable, "__index") &&
                        has_raw_field(L, metatable, "__newindex") &&
                        has_raw_field(L, metatable, "__len");
    lua_pop(L, 1);
    if (usable) return;
  }
  luaL_checktype(L, arg, LUA_TTABLE);
}

// Lua's own idiom for wrap-around arithmetic on lua_Integer without UB.
lua_Unsigned as_unsigned(lua_Integer value) { return static_cast<lua_Unsigned>(value); }

}  // namespace

// table.insert/remove: as ltablib's, but the shifting loop (whose length #t
// or __len may make astronomically long) is charged to the instruction quota.
int sandbox_table_insert(lua_State* L) {
  check_table_like(L, 1);
  const auto first_empty = static_cast<lua_Integer>(as_unsigned(luaL_len(L, 1)) + 1u);
  lua_Integer position = first_empty;
  switch (lua_gettop(L)) {
    case 2:
      break;
    case 3:
      position = luaL_checkinteger(L, 2);
      luaL_argcheck(L, as_unsigned(position) - 1u < as_unsigned(first_empty), 2,
                    "position out of bounds");
      charge_instructions(L, as_unsigned(first_empty) - as_unsigned(position));
      for (lua_Integer i = first_empty; i > position; --i) {
        lua_geti(L, 1, i - 1);
        lua_seti(L, 1, i);
      }
      break;
    default:
      return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, position);
  return 0;
}

int sandbox_table_remove(lua_State* L) {
  check_table_like(L, 1);
  const lua_Integer size = luaL_len(L, 1);
  lua_Integer position = luaL_optinteger(L, 2, size);
  if (position != size) {
    luaL_argcheck(L, as_unsigned(position) - 1u <= as_unsigned(size), 2, "position out of bounds");
  }
  if (position < size) {
    charge_instructions(L, as_unsigned(size) - as_unsigned(position));
  }
  lua_geti(L, 1, position);
  for (; position < size; ++position) {
    lua_geti(L, 1, position + 1);
    lua_seti(L, 1, position);
  }
  lua_pushnil(L);
  lua_seti(L, 1, position);
  return 1;
}

// table.move's loop length comes from its arguments alone: charge it first.
int sandbox_table_move(lua_State* L) {  // upvalue 1: table.move
  const lua_Integer first = luaL_checkinteger(L, 2);
  const lua_Integer last = luaL_checkinteger(L, 3);
  luaL_checkinteger(L, 4);
  if (last >= first) {
    charge_instructions(L, as_unsigned(last) - as_unsigned(first) + 1u);
  }
  return forward_to_original(L);
}

// --- helpers shared with the sandbox ------------------------------------------

// Calls the original function (upvalue 1) with this call's arguments.
int forward_to_original(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

bool has_raw_field(lua_State* L, int idx, const char* name) {
  lua_pushstring(L, name);
  const bool present = lua_rawget(L, idx) != LUA_TNIL;
  lua_pop(L, 1);
  return present;
}

}  // namespace belay::lua
