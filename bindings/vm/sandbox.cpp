#include "vm/sandbox.hpp"

#include <cstring>
#include <initializer_list>
#include <utility>

#include "vm/error_value.hpp"
#include "vm/guards.hpp"
#include "vm/lua_pattern.hpp"
#include "vm/readonly.hpp"

namespace belay::lua {
namespace {

// Registry keys (their addresses are the keys).
const char kPrototypeKey = 0;     // the allowed globals every env starts from
const char kEnvMetatableKey = 0;  // shared by every env
const char kOriginalLoadKey = 0;  // base load, called by the guarded one

struct Refusal {
  const char* name;
  const char* message;
};

// Known-forbidden names raise a clear `sandbox` error; any other missing
// name reads nil, as in plain Lua.
constexpr Refusal kForbiddenGlobals[] = {
    {"io", "io is not available in the sandbox"},
    {"debug", "debug is not available in the sandbox"},
    {"package", "package is not available in the sandbox"},
    {"require", "require is not allowed in the sandbox"},
    {"dofile", "dofile is not available in the sandbox"},
    {"loadfile", "loadfile is not available in the sandbox"},
    {"loadstring", "loadstring is not available in the sandbox"},
    {"collectgarbage", "collectgarbage is not available in the sandbox"},
};
constexpr Refusal kForbiddenOs[] = {
    {"execute", "os.execute is not available in the sandbox"},
    {"exit", "os.exit is not available in the sandbox"},
    {"getenv", "os.getenv is not available in the sandbox"},
    {"remove", "os.remove is not available in the sandbox"},
    {"rename", "os.rename is not available in the sandbox"},
    {"tmpname", "os.tmpname is not available in the sandbox"},
    {"setlocale", "os.setlocale is not available in the sandbox"},
    {"difftime", "os.difftime is not available in the sandbox"},
};
constexpr Refusal kForbiddenString[] = {
    {"dump", "string.dump is not available in the sandbox"},
};

constexpr const char* kBaseAllowed[] = {"assert",   "error",  "ipairs",  "next",   "pairs",
                                        "rawequal", "rawlen", "rawget",  "select", "tonumber",
                                        "tostring", "type",   "_VERSION"};

bool is_env(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return false;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvMetatableKey);
  const bool same = lua_rawequal(L, -1, -2) != 0;
  lua_pop(L, 2);
  return same;
}

// --- forbidden names -------------------------------------------------------------

int refuse_forbidden(lua_State* L) {  // __index(t, key); upvalue 1: name -> message
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TSTRING) {
      return raise_error(L, belay::Kind::sandbox, "%s", lua_tostring(L, -1));
    }
  }
  lua_pushnil(L);
  return 1;
}

template <size_t N>
void push_forbidding_metatable(lua_State* L, const Refusal (&refusals)[N]) {
  lua_createtable(L, 0, 2);
  lua_createtable(L, 0, static_cast<int>(N));
  for (const Refusal& refusal : refusals) {
    lua_pushstring(L, refusal.message);
    lua_setfield(L, -2, refusal.name);
  }
  lua_pushcclosure(L, refuse_forbidden, 1);
  lua_setfield(L, -2, "__index");
}

int refuse_string_write(lua_State* L) {
  return raise_error(L, belay::Kind::sandbox,
                     "the string metatable is locked: strings cannot be modified");
}

// --- guarded base functions -------------------------------------------------------

int sandbox_rawset(lua_State* L) {  // upvalue 1: rawset
  if (is_readonly(L, 1)) return refuse_readonly_write(L, 1);
  return forward_to_original(L);
}

int sandbox_setmetatable(lua_State* L) {  // upvalue 1: setmetatable
  if (lua_type(L, 1) == LUA_TSTRING) {
    return raise_error(L, belay::Kind::sandbox, "the string metatable is locked");
  }
  if (is_readonly(L, 1)) {
    const char* name = push_readonly_name(L, 1);
    return raise_error(L, belay::Kind::sandbox,
                       "cannot change the metatable of read-only table '%s'", name);
  }
  if (is_env(L, 1)) {
    return raise_error(L, belay::Kind::sandbox, "cannot change the metatable of _G: it is locked");
  }
  // A finalizer runs with hooks off, outside every quota.
  if (lua_type(L, 2) == LUA_TTABLE && has_raw_field(L, 2, "__gc")) {
    return raise_error(L, belay::Kind::sandbox, "__gc metamethods are not allowed in the sandbox");
  }
  return forward_to_original(L);
}

// Tables keep plain-Lua behaviour (their __metatable field is honoured);
// the metatables of other types (strings, host userdata) are never handed out.
int sandbox_getmetatable(lua_State* L) {  // upvalue 1: getmetatable
  luaL_checkany(L, 1);
  if (lua_type(L, 1) == LUA_TTABLE) return forward_to_original(L);
  if (lua_getmetatable(L, 1) == 0) {
    lua_pushnil(L);
  } else {
    lua_pushliteral(L, "locked");
  }
  return 1;
}

int refuse_binary(lua_State* L) {
  return raise_error(L, belay::Kind::sandbox, "binary chunks are not allowed in the sandbox");
}

// load(chunk [, chunkname [, mode [, env]]]): text only; without an env the
// chunk gets the environment this load belongs to, never the host's globals.
int sandbox_load(lua_State* L) {  // upvalues: the env, base load
  const int nargs = lua_gettop(L);
  if (lua_type(L, 1) == LUA_TSTRING && lua_tostring(L, 1)[0] == LUA_SIGNATURE[0]) {
    return refuse_binary(L);
  }
  if (!lua_isnoneornil(L, 3) && std::strchr(luaL_checkstring(L, 3), 'b') != nullptr) {
    return refuse_binary(L);
  }
  lua_settop(L, 4);
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  if (nargs < 4) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_replace(L, 4);
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 4, LUA_MULTRET);
  return lua_gettop(L);
}

// --- building the prototype -----------------------------------------------------------

// Copies the fields of the table at `source` into a new table on top,
// except `dropped`.
void push_copy(lua_State* L, int source, std::initializer_list<const char*> dropped = {}) {
  source = lua_absindex(L, source);
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, source) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  for (const char* name : dropped) {
    lua_pushnil(L);
    lua_setfield(L, -2, name);
  }
}

// Replaces field `name` of the table on top by `guard`, with the original
// as its upvalue.
void guard_field(lua_State* L, const char* name, lua_CFunction guard) {
  lua_getfield(L, -1, name);
  lua_pushcclosure(L, guard, 1);
  lua_setfield(L, -2, name);
}

// Turns the table on top into its read-only proxy and stores that as
// prototype[name] (the prototype is just below).
void publish_readonly(lua_State* L, const char* name) {
  push_readonly(L, -1, name);
  lua_setfield(L, -3, name);
  lua_pop(L, 1);
}

void add_base(lua_State* L) {
  luaL_requiref(L, "_G", luaopen_base, 0);  // the host's globals, never a script's
  for (const char* name : kBaseAllowed) {
    lua_getfield(L, -1, name);
    lua_setfield(L, -3, name);
  }
  lua_getfield(L, -1, "load");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kOriginalLoadKey);
  const std::pair<const char*, lua_CFunction> guarded[] = {{"rawset", sandbox_rawset},
                                                           {"setmetatable", sandbox_setmetatable},
                                                           {"getmetatable", sandbox_getmetatable}};
  for (const auto& [name, guard] : guarded) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, guard, 1);
    lua_setfield(L, -3, name);
  }
  lua_pop(L, 1);
  const std::pair<const char*, lua_CFunction> replaced[] = {
      {"pcall", guarded_pcall}, {"xpcall", guarded_xpcall}, {"print", sandbox_print}};
  for (const auto& [name, function] : replaced) {
    lua_pushcfunction(L, function);
    lua_setfield(L, -2, name);
  }
}

// The string metatable is shared by every string in the state: point it at
// the read-only proxy and lock it, so ("x"):rep works and nothing else does.
void lock_string_metatable(lua_State* L, int proxy) {
  proxy = lua_absindex(L, proxy);
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushvalue(L, proxy);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, refuse_string_write);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
}

void add_string(lua_State* L) {
  luaL_requiref(L, "string", luaopen_string, 0);
  push_copy(L, -1, {"dump"});
  lua_remove(L, -2);
  guard_field(L, "rep", sandbox_string_rep);
  set_counted_pattern_functions(L, -1);
  push_forbidding_metatable(L, kForbiddenString);
  lua_setmetatable(L, -2);
  push_readonly(L, -1, "string");
  lock_string_metatable(L, -1);
  lua_setfield(L, -3, "string");
  lua_pop(L, 1);
}

void add_table(lua_State* L) {
  luaL_requiref(L, "table", luaopen_table, 0);
  push_copy(L, -1);
  lua_remove(L, -2);
  lua_pushcfunction(L, sandbox_table_insert);
  lua_setfield(L, -2, "insert");
  lua_pushcfunction(L, sandbox_table_remove);
  lua_setfield(L, -2, "remove");
  guard_field(L, "move", sandbox_table_move);
  publish_readonly(L, "table");
}

void add_library(lua_State* L, const char* name, lua_CFunction open) {
  luaL_requiref(L, name, open, 0);
  push_copy(L, -1);
  lua_remove(L, -2);
  publish_readonly(L, name);
}

void add_os(lua_State* L) {
  luaL_requiref(L, "os", luaopen_os, 0);
  lua_createtable(L, 0, 3);
  for (const char* name : {"clock", "date", "time"}) {
    lua_getfield(L, -2, name);
    lua_setfield(L, -2, name);
  }
  lua_remove(L, -2);
  push_forbidding_metatable(L, kForbiddenOs);
  lua_setmetatable(L, -2);
  publish_readonly(L, "os");
}

void store_env_metatable(lua_State* L) {
  push_forbidding_metatable(L, kForbiddenGlobals);
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kEnvMetatableKey);
}

struct LoadRequest {
  const char* data;
  size_t size;
  const char* chunkname;
};

int load_protected(lua_State* L) {  // -> error table or function, loaded?
  const auto* request = static_cast<const LoadRequest*>(lua_touserdata(L, 1));
  if (request->size > 0 && request->data[0] == LUA_SIGNATURE[0]) {
    push_plain_error(L, belay::Kind::sandbox, "binary chunks are not allowed in the sandbox");
    lua_pushboolean(L, 0);
    return 2;
  }
  if (luaL_loadbufferx(L, request->data, request->size, request->chunkname, "t") != LUA_OK) {
    size_t length = 0;
    const char* message = lua_tolstring(L, -1, &length);
    push_plain_error(L, belay::Kind::script, std::string_view(message, length));
    lua_pushboolean(L, 0);
    return 2;
  }
  push_sandbox_env(L);
  lua_setupvalue(L, -2, 1);  // a main chunk's only upvalue is _ENV
  lua_pushboolean(L, 1);
  return 2;
}

}  // namespace

void install_sandbox(lua_State* L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kPrototypeKey) == LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  register_error(L);
  store_env_metatable(L);
  lua_newtable(L);
  add_base(L);
  add_string(L);
  add_table(L);
  add_library(L, "math", luaopen_math);
  add_library(L, "utf8", luaopen_utf8);
  push_guarded_coroutine_lib(L);
  publish_readonly(L, "coroutine");
  add_os(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kPrototypeKey);
}

void push_sandbox_env(lua_State* L) {
  install_sandbox(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kPrototypeKey);
  push_copy(L, -1);
  lua_remove(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G");
  lua_pushvalue(L, -1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kOriginalLoadKey);
  lua_pushcclosure(L, sandbox_load, 2);
  lua_setfield(L, -2, "load");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvMetatableKey);
  lua_setmetatable(L, -2);
}

void add_sandbox_global(lua_State* L, const char* name) {
  install_sandbox(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kPrototypeKey);
  lua_insert(L, -2);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

int load_sandboxed(lua_State* L, std::string_view source, const char* chunkname) {
  LoadRequest request{source.data(), source.size(), chunkname};
  lua_pushcfunction(L, load_protected);
  lua_pushlightuserdata(L, &request);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) return LUA_ERRMEM;  // its error value is on top
  const bool loaded = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  return loaded ? LUA_OK : LUA_ERRSYNTAX;
}

}  // namespace belay::lua
