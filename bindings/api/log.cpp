// belay.log.{debug,info,warn,error}: lines to the host's log (and, off a
// terminal, to stderr), never to the campaign's result.

#include "api/log.hpp"

#include "vm/runtime.hpp"

#include <cstdio>
#include <string>

namespace belay::lua {
namespace {

// Joins the arguments with spaces, as print does (tostring on each).
int log_at(lua_State* L, const char* level) {
  const int n = lua_gettop(L);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&buffer, ' ');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&buffer);
  }
  luaL_pushresult(&buffer);
  size_t len = 0;
  const char* line = lua_tolstring(L, -1, &len);
  Runtime::from(L).log(level, std::string_view(line, len));
  return 0;
}

int l_debug(lua_State* L) { return log_at(L, "debug"); }
int l_info(lua_State* L) { return log_at(L, "info"); }
int l_warn(lua_State* L) { return log_at(L, "warn"); }
int l_error(lua_State* L) { return log_at(L, "error"); }

}  // namespace

void push_log_module(lua_State* L) {
  const luaL_Reg functions[] = {{"debug", l_debug},
                                {"info", l_info},
                                {"warn", l_warn},
                                {"error", l_error},
                                {nullptr, nullptr}};
  luaL_newlib(L, functions);
}

}  // namespace belay::lua
