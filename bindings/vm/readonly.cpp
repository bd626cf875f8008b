#include "vm/readonly.hpp"

#include "vm/error_value.hpp"

namespace belay::lua {
namespace {

const char kReadonlyKey = 0;  // registry: weak set, proxy -> name

void push_readonly_set(lua_State* L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kReadonlyKey) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kReadonlyKey);
}

int refuse_write(lua_State* L) {  // __newindex; upvalue 1: name or nil
  if (lua_isnil(L, lua_upvalueindex(1))) {
    return raise_error(L, belay::Kind::sandbox, "attempt to modify a read-only table");
  }
  return raise_error(L, belay::Kind::sandbox, "attempt to modify read-only table '%s'",
                     lua_tostring(L, lua_upvalueindex(1)));
}

int proxy_len(lua_State* L) {  // upvalue 1: the original
  lua_pushinteger(L, luaL_len(L, lua_upvalueindex(1)));
  return 1;
}

int proxy_next(lua_State* L) {  // (proxy, key); upvalue 1: the original
  lua_settop(L, 2);
  if (lua_next(L, lua_upvalueindex(1)) != 0) return 2;
  lua_pushnil(L);
  return 1;
}

// pairs(proxy) hands out the proxy as the iteration state, never the
// original: `local _, s = pairs(string)` must not give a writable table.
int proxy_pairs(lua_State* L) {  // upvalue 1: the original
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, proxy_next, 1);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

}  // namespace

// The proxy's name (nil-safe), left on the stack.
const char* push_readonly_name(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  push_readonly_set(L);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_remove(L, -2);
  return lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
}

int refuse_readonly_write(lua_State* L, int idx) {
  const char* name = push_readonly_name(L, idx);
  return raise_error(L, belay::Kind::sandbox, "attempt to modify read-only table '%s'", name);
}

void push_readonly(lua_State* L, int idx, const char* name) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  lua_createtable(L, 0, 5);
  lua_pushvalue(L, idx);
  lua_setfield(L, -2, "__index");
  if (name != nullptr) {
    lua_pushstring(L, name);
  } else {
    lua_pushnil(L);
  }
  lua_pushcclosure(L, refuse_write, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, idx);
  lua_pushcclosure(L, proxy_len, 1);
  lua_setfield(L, -2, "__len");
  lua_pushvalue(L, idx);
  lua_pushcclosure(L, proxy_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  push_readonly_set(L);
  lua_pushvalue(L, -2);
  lua_pushstring(L, name != nullptr ? name : "?");
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

bool is_readonly(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  push_readonly_set(L);
  lua_pushvalue(L, idx);
  const bool readonly = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return readonly;
}

}  // namespace belay::lua
