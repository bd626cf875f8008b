// browser:cookies(urls?, opts), browser:set_cookies(list, opts),
// browser:clear_cookies(opts): the profile's cookies, shared by its pages.
// Cookie tables use CDP's fields in snake_case (browser/cookies.hpp); a
// cookie to set refuses unknown keys like any options table.

#include "api/browser_cookies.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "browser/cookies.hpp"
#include "vm/error_value.hpp"

#include <string>
#include <vector>

namespace belay::lua {
namespace {

using nlohmann::json;

// The browser behind argument 1, its timeout from the opts at `opts_idx`,
// and a call slot. False with an error table pushed otherwise.
bool begin_cookie_call(lua_State* L, const char* op, int opts_idx, browser::Browser** browser,
                       uint64_t* timeout_ms, CallSlot* slot) {
  if (!read_timeout_option(L, opts_idx, op, Runtime::from(L).hooks().call_timeout_ms, timeout_ms)) {
    return false;
  }
  auto* handle = static_cast<BrowserHandle*>(luaL_testudata(L, 1, kBrowserMetatable));
  if (handle == nullptr) {
    push_error(L, Error{Kind::script, std::string(op) + ": expected a browser", op, {}});
    return false;
  }
  auto session = handle->session.lock();
  if (!session || !session->connected() || session->browser() == nullptr) {
    push_error(L, Error{Kind::browser_disconnected, "the browser is not running", op, {}});
    return false;
  }
  auto started = Runtime::from(L).begin_call(L, op);
  if (!started) return false;
  *browser = session->browser();
  *slot = *started;
  return true;
}

bool config_error(lua_State* L, const char* op, const std::string& message) {
  push_error(L, Error{Kind::config, std::string(op) + ": " + message, op, {}});
  return false;
}

// browser:cookies(urls?, opts): urls is a string or a list of strings.
bool start_cookies(lua_State* L) {
  const char* op = "browser:cookies";
  std::vector<std::string> urls;
  if (lua_type(L, 2) == LUA_TSTRING) {
    urls.emplace_back(lua_tostring(L, 2));
  } else if (lua_type(L, 2) == LUA_TTABLE) {
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, 2));
    for (lua_Integer i = 1; i <= n; ++i) {
      const int type = lua_rawgeti(L, 2, i);
      if (type != LUA_TSTRING) {
        lua_pop(L, 1);
        return config_error(L, op, "urls must be a string or a list of strings");
      }
      urls.emplace_back(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  } else if (!lua_isnoneornil(L, 2)) {
    return config_error(L, op, "urls must be a string or a list of strings");
  }
  browser::Browser* browser = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
  if (!begin_cookie_call(L, op, 3, &browser, &timeout_ms, &slot)) return false;
  browser::get_cookies(*browser, urls, timeout_ms, op, finish_into(slot));
  return true;
}

// One cookie table at `idx` as a CDP CookieParam; false with the error
// pushed.
bool read_cookie(lua_State* L, int idx, lua_Integer n, json* out) {
  const char* op = "browser:set_cookies";
  if (lua_type(L, idx) != LUA_TTABLE) {
    return config_error(L, op, "cookie " + std::to_string(n) + " must be a table");
  }
  Options o(
      L, idx, op,
      {"name", "value", "url", "domain", "path", "expires", "http_only", "secure", "same_site"});
  auto name = o.string("name");
  auto value = o.string("value");
  auto url = o.string("url");
  auto domain = o.string("domain");
  auto path = o.string("path");
  auto expires = o.number("expires", -1, 1e13);
  auto http_only = o.boolean("http_only");
  auto secure = o.boolean("secure");
  auto same_site = o.one_of("same_site", {"Strict", "Lax", "None"});
  if (!o.ok()) return o.push_error();
  const std::string which = "cookie " + std::to_string(n);
  if (!name || name->empty()) return config_error(L, op, which + " needs a name");
  if (!value) return config_error(L, op, which + " needs a value (a string)");
  if (!url && !domain) return config_error(L, op, which + " needs a url or a domain");
  *out = {{"name", *name}, {"value", *value}};
  if (url) (*out)["url"] = *url;
  if (domain) (*out)["domain"] = *domain;
  if (path) (*out)["path"] = *path;
  if (expires && *expires > 0) (*out)["expires"] = *expires;
  if (http_only) (*out)["httpOnly"] = *http_only;
  if (secure) (*out)["secure"] = *secure;
  if (same_site) (*out)["sameSite"] = *same_site;
  return true;
}

bool start_set_cookies(lua_State* L) {
  const char* op = "browser:set_cookies";
  if (lua_type(L, 2) != LUA_TTABLE) {
    return config_error(L, op, "expects a list of cookie tables");
  }
  json cookies = json::array();
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, 2));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 2, i);
    json cookie;
    const bool ok = read_cookie(L, lua_gettop(L), i, &cookie);
    if (!ok) {
      lua_remove(L, -2);  // the cookie table; the error stays on top
      return false;
    }
    lua_pop(L, 1);
    cookies.push_back(std::move(cookie));
  }
  browser::Browser* browser = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
  if (!begin_cookie_call(L, op, 3, &browser, &timeout_ms, &slot)) return false;
  browser::set_cookies(*browser, std::move(cookies), timeout_ms, op, [slot](Result<json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_none();
  });
  return true;
}

bool start_clear_cookies(lua_State* L) {
  const char* op = "browser:clear_cookies";
  browser::Browser* browser = nullptr;
  uint64_t timeout_ms = 0;
  CallSlot slot;
  if (!begin_cookie_call(L, op, 2, &browser, &timeout_ms, &slot)) return false;
  browser::clear_cookies(*browser, timeout_ms, op, [slot](Result<json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_none();
  });
  return true;
}

BELAY_YIELDING_BINDING(cookies)
BELAY_YIELDING_BINDING(set_cookies)
BELAY_YIELDING_BINDING(clear_cookies)

}  // namespace

void add_cookie_methods(std::vector<luaL_Reg>* methods) {
  methods->push_back({"cookies", l_cookies});
  methods->push_back({"set_cookies", l_set_cookies});
  methods->push_back({"clear_cookies", l_clear_cookies});
}

}  // namespace belay::lua
