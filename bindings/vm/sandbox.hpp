#pragma once
// The sandbox a script runs in (DESIGN.md "Hot reload and sandbox"): an
// environment built from an allow-list, shared library tables behind
// read-only proxies, a locked string metatable, and `sandbox` errors that name
// what was refused ("io is not available in the sandbox").
//
// Allowed globals: assert error ipairs next pairs pcall xpcall print rawequal
// rawlen rawget rawset select tonumber tostring type setmetatable
// getmetatable load _VERSION _G, and the libraries string (no dump), table,
// math, utf8, coroutine, os (time, clock, date only). Several are guarded
// versions: pcall/xpcall/coroutine re-raise a tripped quota (guards.hpp),
// setmetatable refuses locked tables and __gc, rawset refuses read-only
// proxies (readonly.hpp), load takes text only and never sees the host's
// globals.
//
// Every state made by LuaState has the sandbox installed.

#include <lua.hpp>
#include <string_view>

namespace belay::lua {

// Opens the allowed standard libraries (not as host globals), locks the
// string metatable and builds the allow-list prototype. Idempotent.
void install_sandbox(lua_State* L);

// Pushes a fresh environment: a writable table of its own (a script may set
// globals in it) with the allowed globals, _G = itself, and a locked
// metatable whose __index raises a `sandbox` error for known-forbidden names.
void push_sandbox_env(lua_State* L);

// Pops the value on top and adds it as global `name` to every environment
// pushed from now on (e.g. the read-only `belay` table).
void add_sandbox_global(lua_State* L, const char* name);

// Loads `source` as a text chunk whose _ENV is a fresh sandbox environment.
// Pushes the function and returns LUA_OK, or pushes an error table (kind
// `script`, "chunkname:line: message"; kind `sandbox` for a binary chunk)
// and returns the failing status. Never raises.
int load_sandboxed(lua_State* L, std::string_view source, const char* chunkname);

}  // namespace belay::lua
