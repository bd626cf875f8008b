// page:set_extra_headers(t, opts), page:set_user_agent(ua, opts),
// page:set_viewport({width, height, scale, mobile}, opts): overrides for
// this page only (browser/page_settings.hpp).

#include "api/page_settings.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "browser/page_settings.hpp"
#include "vm/error_value.hpp"

#include <string>

namespace belay::lua {
namespace {

using nlohmann::json;

bool config_error(lua_State* L, const char* op, const std::string& message) {
  push_error(L, Error{Kind::config, std::string(op) + ": " + message, op, {}});
  return false;
}

// A live page and a call slot, the timeout from the opts at `opts_idx`.
bool begin_settings_call(lua_State* L, const char* op, int opts_idx, browser::Page** page,
                         uint64_t* timeout_ms, CallSlot* slot) {
  if (!read_timeout_option(L, opts_idx, op, Runtime::from(L).hooks().call_timeout_ms, timeout_ms)) {
    return false;
  }
  return begin_page_call(L, op, page, slot);
}

auto succeed_none(const CallSlot& slot) {
  return [slot](Result<json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_none();
  };
}

bool start_set_extra_headers(lua_State* L) {
  const char* op = "page:set_extra_headers";
  if (lua_type(L, 2) != LUA_TTABLE) {
    return config_error(L, op, "expects a table of header names and string values");
  }
  json headers = json::object();
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 2);
      return config_error(L, op, "header names and values must be strings");
    }
    headers[lua_tostring(L, -2)] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  browser::Page* page = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
  if (!begin_settings_call(L, op, 3, &page, &timeout_ms, &slot)) return false;
  browser::set_extra_headers(*page, std::move(headers), timeout_ms, op, succeed_none(slot));
  return true;
}

bool start_set_user_agent(lua_State* L) {
  const char* op = "page:set_user_agent";
  if (lua_type(L, 2) != LUA_TSTRING || lua_rawlen(L, 2) == 0) {
    return config_error(L, op, "expects the user agent, a string that is not empty");
  }
  const std::string user_agent = lua_tostring(L, 2);
  browser::Page* page = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
  if (!begin_settings_call(L, op, 3, &page, &timeout_ms, &slot)) return false;
  browser::set_user_agent(*page, user_agent, timeout_ms, op, succeed_none(slot));
  return true;
}

bool start_set_viewport(lua_State* L) {
  const char* op = "page:set_viewport";
  if (lua_type(L, 2) != LUA_TTABLE) return config_error(L, op, "expects {width, height, …}");
  browser::Viewport viewport;
  {
    Options o(L, 2, op, {"width", "height", "scale", "mobile"});
    auto width = o.number("width", 1, 10000, true);
    auto height = o.number("height", 1, 10000, true);
    viewport.scale = o.number("scale", 0.1, 10).value_or(1);
    viewport.mobile = o.boolean("mobile", false);
    if (!o.ok()) return o.push_error();
    if (!width || !height) return config_error(L, op, "width and height are required");
    viewport.width = static_cast<int>(*width);
    viewport.height = static_cast<int>(*height);
  }
  browser::Page* page = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
  if (!begin_settings_call(L, op, 3, &page, &timeout_ms, &slot)) return false;
  browser::set_viewport(*page, viewport, timeout_ms, op, succeed_none(slot));
  return true;
}

BELAY_YIELDING_BINDING(set_extra_headers)
BELAY_YIELDING_BINDING(set_user_agent)
BELAY_YIELDING_BINDING(set_viewport)

}  // namespace

void add_settings_methods(std::vector<luaL_Reg>* methods) {
  methods->push_back({"set_extra_headers", l_set_extra_headers});
  methods->push_back({"set_user_agent", l_set_user_agent});
  methods->push_back({"set_viewport", l_set_viewport});
}

}  // namespace belay::lua
