#pragma once
// The sandbox's replacements for standard functions that would otherwise
// escape the quotas or the host (sandbox.hpp says which globals get them):
//
//  - pcall and xpcall re-raise a tripped quota instead of returning it;
//  - the coroutine library's resume/wrap/close re-raise a tripped quota,
//    refuse host tasks and let browser calls wait inside script coroutines
//    (script_coroutines.hpp); yield and isyieldable treat the task as the
//    top level;
//  - table.insert/remove/move charge their loops to the instruction quota,
//    and string.rep ends at once when it would produce nothing;
//  - print goes to the state's log.

#include <lua.hpp>

#include <string_view>

namespace belay::lua {

int guarded_pcall(lua_State* L);
int guarded_xpcall(lua_State* L);
// Pushes the guarded coroutine library (a new table).
void push_guarded_coroutine_lib(lua_State* L);

// Sends one line to the state's log (print).
void log_line(lua_State* L, std::string_view line);
int sandbox_print(lua_State* L);

// Library guards; those marked "upvalue 1" wrap the original function.
int sandbox_string_rep(lua_State* L);  // upvalue 1: string.rep
int sandbox_table_insert(lua_State* L);
int sandbox_table_remove(lua_State* L);
int sandbox_table_move(lua_State* L);  // upvalue 1: table.move

// Shared with the sandbox's own guards (rawset, setmetatable, ...):
// Calls the original function (upvalue 1) with this call's arguments.
int forward_to_original(lua_State* L);
// True if the table at `idx` has field `name`, without metamethods.
bool has_raw_field(lua_State* L, int idx, const char* name);

}  // namespace belay::lua
