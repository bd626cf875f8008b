#pragma once
// The Lua side of belay::Error: the error table of DESIGN.md ("Error kinds"),
// {kind, message, op, retryable, cdp} with a shared, locked metatable whose
// __tostring gives "kind: message (op)". Every binding raises and reads
// errors through these; `belay.error` itself is api/error.hpp.
//
// Lua errors longjmp over C++ frames (Debian's Lua is built as C), so the
// functions that may raise take only plain values (Kind, string_view), and
// push_error(const Error&) runs its Lua work in protected mode.

#include <lua.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace belay::lua {

// Registry key of the shared metatable (luaL_newmetatable style).
inline constexpr const char* kErrorMetatable = "belay.error";

// Creates the shared metatable; idempotent. LuaState calls it.
void register_error(lua_State* L);

// Pushes the error table for `e`. Never raises: if even a protected build
// runs out of memory, the memory error's value is pushed instead.
void push_error(lua_State* L, const belay::Error& e);

// Pushes an error table built from plain values. May raise only a memory
// error; nothing non-trivial is alive in its frames.
void push_plain_error(lua_State* L, belay::Kind kind, std::string_view message,
                      std::string_view op = {});

// Raises an error table of `kind` whose message is "chunk:line: " (the Lua
// caller's position, as luaL_error gives) followed by the lua_pushfstring
// formatted text. Never returns.
int raise_error(lua_State* L, belay::Kind kind, const char* fmt, ...);

// True when the value at `idx` carries the shared error metatable (compared
// by identity, so a script cannot forge one).
bool is_error(lua_State* L, int idx);
// "FILE:LINE" of the innermost script frame that has a line (a C function's
// caller), or "" when none has.
std::string script_position(lua_State* L);
// Appends " (at FILE:LINE)" (script_position) to the message of the error
// table on top of the stack, unless it names a position already: an error
// raised before a call begins says where, as one raised by the call does.
void add_call_site(lua_State* L);

// Error table -> Error (fields read raw, no metamethod runs). Any other value
// -> kind `script` with the value as message ("file:line: message" strings
// are preserved; other values are described, never tostring'd through a
// metamethod, since the host must not run script code outside a task).
belay::Error to_error(lua_State* L, int idx);

}  // namespace belay::lua
