#include "api/error.hpp"

#include "vm/error_value.hpp"

#include <cstring>
#include <optional>
#include <string_view>

namespace belay::lua {

int l_belay_error(lua_State* L) {
  size_t name_length = 0;
  const char* name = luaL_checklstring(L, 1, &name_length);
  size_t message_length = 0;
  const char* message = luaL_optlstring(L, 2, "", &message_length);
  const std::optional<belay::Kind> kind = kind_from_name(std::string_view(name, name_length));
  // As error()'s level: 1 names the function that called belay.error, 2
  // its caller (a library blaming the script that called it wrongly).
  const lua_Integer level = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, level >= 1 && level <= 100, 3, "level must be 1 ... 100");
  luaL_where(L, static_cast<int>(level));  // "chunk:line: ", the op without its trailing ": "
  size_t where_length = 0;
  const char* where = lua_tolstring(L, -1, &where_length);
  if (where_length >= 2) where_length -= 2;
  if (!kind) {
    // Same shape as a known kind, op included, so tostring stays uniform.
    message = lua_pushfstring(L, "unknown error kind '%s'", name);
    message_length = std::strlen(message);
  }
  push_plain_error(L, kind.value_or(belay::Kind::script), std::string_view(message, message_length),
                   std::string_view(where, where_length));
  return lua_error(L);
}

}  // namespace belay::lua
