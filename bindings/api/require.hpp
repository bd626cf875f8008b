#pragma once
// The sandbox's require: Lua modules only, text only, each loaded into a
// sandbox environment of its own, from the campaign's directory and the
// bundled scripts/. C modules are never searched, so `require "socket"`
// is simply not found.

#include <lua.hpp>

#include <string>
#include <vector>

namespace belay::lua {

void set_module_dirs(lua_State* L, const std::vector<std::string>& dirs);
int l_require(lua_State* L);
// Forgets loaded modules, so the next require reads the files again (hot
// reload).
void clear_module_cache(lua_State* L);
// The module files require has read (found, whether or not they compiled)
// since set_module_dirs or the last call, in load order, as the module
// directory spells them; forgets them. Called from C++, outside any pcall:
// hot reload watches these files.
std::vector<std::string> take_required_files(lua_State* L);
// Reads a whole file into a Lua string on the stack, or pushes a `config`
// error table; returns whether it read. Scripts are small and read once per
// (re)load, so this reads synchronously.
bool push_file_contents(lua_State* L, const std::string& path);

}  // namespace belay::lua
