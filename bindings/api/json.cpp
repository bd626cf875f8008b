#include "api/json.hpp"

#include "core/json_text.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <string>
#include <string_view>

namespace belay::lua {
namespace {

using nlohmann::json;

int l_encode(lua_State* L) {
  luaL_checkany(L, 1);
  std::string text;
  {
    Result<json> value = to_json(L, 1);
    if (!value) {
      push_error(L, value.error());
    } else {
      text = value.value().dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  if (text.empty()) {  // std::string is empty: nothing to leak
    add_call_site(L);
    return lua_error(L);
  }
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int l_decode(lua_State* L) {
  size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  if (size_t nul = nul_byte_at(std::string_view(text, len)); nul != std::string_view::npos) {
    push_plain_error(
        L, Kind::script,
        "belay.json.decode: not valid JSON (a NUL byte at offset " + std::to_string(nul) + ")",
        "belay.json.decode");
    add_call_site(L);
    return lua_error(L);
  }
  bool ok = false;
  {
    json value = parse_json_or_discard(std::string_view(text, len));
    if (!value.is_discarded()) {
      ok = true;
      // push_json may raise only on memory; value's destructor would then
      // be skipped, so build in a protected call.
      lua_pushcfunction(L, [](lua_State* S) {
        push_json(S, *static_cast<json*>(lua_touserdata(S, 1)));
        return 1;
      });
      lua_pushlightuserdata(L, &value);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) ok = false;
    }
  }
  if (!ok) {
    if (lua_gettop(L) > 1) return lua_error(L);
    push_plain_error(L, Kind::script, "belay.json.decode: not valid JSON", "belay.json.decode");
    add_call_site(L);
    return lua_error(L);
  }
  return 1;
}

}  // namespace

void push_json_module(lua_State* L) {
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, l_encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, -2, "decode");
  push_json_null(L);
  lua_setfield(L, -2, "null");
}

}  // namespace belay::lua
