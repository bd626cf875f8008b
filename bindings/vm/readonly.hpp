#pragma once
// Read-only proxies: how the sandbox shares one library table (string,
// table, belay, ...) between every script without letting any of them
// change it for the others.

#include <lua.hpp>

namespace belay::lua {

// Pushes a read-only proxy for the table at `idx`: reads, #, pairs and
// ipairs go to the original; writes (t.k = v, rawset) raise a `sandbox`
// error "attempt to modify read-only table 'NAME'"; the metatable is locked.
void push_readonly(lua_State* L, int idx, const char* name = nullptr);
// True if the value at `idx` is a proxy made by push_readonly.
bool is_readonly(lua_State* L, int idx);
// Pushes the name of the proxy at `idx` and returns it ("?" if it has none).
const char* push_readonly_name(lua_State* L, int idx);
// Raises the `sandbox` error for a write to the proxy at `idx`.
int refuse_readonly_write(lua_State* L, int idx);

}  // namespace belay::lua
