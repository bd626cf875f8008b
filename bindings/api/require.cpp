#include "api/require.hpp"

#include "vm/error_value.hpp"
#include "vm/sandbox.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace belay::lua {
namespace {

const char kDirsKey = 0;     // registry: array of module directories
const char kModulesKey = 0;  // registry: name -> loaded value
const char kFilesKey = 0;    // registry: array of the module files read

// Notes a module file as read, before it compiles: a module that broke a
// reload is watched too, so saving its fix reloads again.
void record_file(lua_State* L, const char* path) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kFilesKey);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kFilesKey);
  }
  lua_pushstring(L, path);
  lua_rawseti(L, -2, static_cast<lua_Integer>(lua_rawlen(L, -2)) + 1);
  lua_pop(L, 1);
}

bool valid_module_name(const char* name) {
  if (*name == '\0' || *name == '.') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    const bool ok = std::isalnum(static_cast<unsigned char>(*c)) != 0 || *c == '_' || *c == '-' ||
                    (*c == '.' && c[1] != '.' && c[1] != '\0');
    if (!ok) return false;
  }
  return true;
}

// Pushes the loaded chunk of module `name`, or an error table.
bool load_module(lua_State* L, const char* name) {
  std::string relative(name);
  for (char& c : relative) {
    if (c == '.') c = '/';
  }
  relative += ".lua";
  std::string searched;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kDirsKey);
  const lua_Integer count = lua_istable(L, -1) ? luaL_len(L, -1) : 0;
  for (lua_Integer i = 1; i <= count; ++i) {
    lua_rawgeti(L, -1, i);
    std::string path = std::string(lua_tostring(L, -1)) + "/" + relative;
    lua_pop(L, 1);
    std::ifstream file(path);
    if (!file) {
      searched += "\n\tno file '" + path + "'";
      continue;
    }
    std::stringstream contents;
    contents << file.rdbuf();
    lua_pop(L, 1);  // the dirs table
    record_file(L, path.c_str());
    const std::string chunkname = "@" + path;
    return load_sandboxed(L, contents.str(), chunkname.c_str()) == LUA_OK;
  }
  lua_pop(L, 1);
  push_error(L, Error{Kind::script,
                      "module '" + std::string(name) +
                          "' not found (only Lua "
                          "modules can be required in the sandbox):" +
                          searched,
                      "require",
                      {}});
  return false;
}

}  // namespace

void set_module_dirs(lua_State* L, const std::vector<std::string>& dirs) {
  lua_createtable(L, static_cast<int>(dirs.size()), 0);
  lua_Integer i = 1;
  for (const auto& dir : dirs) {
    lua_pushlstring(L, dir.data(), dir.size());
    lua_rawseti(L, -2, i++);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kDirsKey);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kModulesKey);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kFilesKey);
}

std::vector<std::string> take_required_files(lua_State* L) {
  std::vector<std::string> files;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kFilesKey);
  const auto count = lua_istable(L, -1) ? static_cast<lua_Integer>(lua_rawlen(L, -1)) : 0;
  for (lua_Integer i = 1; i <= count; ++i) {
    lua_rawgeti(L, -1, i);
    files.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kFilesKey);
  return files;
}

void clear_module_cache(lua_State* L) {
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kModulesKey);
}

int l_require(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  if (!valid_module_name(name)) {
    return raise_error(L, Kind::sandbox, "require: '%s' is not a module name", name);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kModulesKey);
  const int cache = lua_gettop(L);
  lua_getfield(L, cache, name);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  if (!load_module(L, name)) return lua_error(L);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, cache, name);
  return 1;
}

bool push_file_contents(lua_State* L, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    push_error(L, Error{Kind::config, "cannot read " + path + ": " + std::strerror(errno), "", {}});
    return false;
  }
  std::stringstream contents;
  contents << file.rdbuf();
  const std::string text = contents.str();
  lua_pushlstring(L, text.data(), text.size());
  return true;
}

}  // namespace belay::lua
