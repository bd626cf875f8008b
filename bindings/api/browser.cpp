// browser:* — the profile's browser as the script sees it.

#include "api/browser_cookies.hpp"
#include "api/handles.hpp"
#include "api/options.hpp"
#include "cdp/reply_fields.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

namespace belay::lua {
namespace {

struct Prologue {
  std::shared_ptr<browser::BrowserSession> session;
  uint64_t timeout_ms = 0;
  CallSlot slot;
};

bool begin_browser_call(lua_State* L, const char* op, int opts_idx, bool need_connected,
                        Prologue* out) {
  if (!read_timeout_option(L, opts_idx, op, Runtime::from(L).hooks().call_timeout_ms,
                           &out->timeout_ms)) {
    return false;
  }
  auto* handle = static_cast<BrowserHandle*>(luaL_testudata(L, 1, kBrowserMetatable));
  if (handle == nullptr) {
    push_error(L, Error{Kind::script, std::string(op) + ": expected a browser", op, {}});
    return false;
  }
  out->session = handle->session.lock();
  if (!out->session || (need_connected && !out->session->connected())) {
    push_error(L, Error{Kind::browser_disconnected, "the browser is not running", op, {}});
    return false;
  }
  auto slot = Runtime::from(L).begin_call(L, op);
  if (!slot) return false;
  out->slot = *slot;
  return true;
}

bool start_new_page(lua_State* L) {
  Prologue p;
  if (!begin_browser_call(L, "browser:new_page", 2, true, &p)) return false;
  std::weak_ptr<browser::BrowserSession> weak = p.session;
  p.session->new_page([slot = p.slot, weak](Result<std::shared_ptr<browser::Page>> page) {
    if (!page) return slot.fail(std::move(page.error()));
    slot.succeed([page = page.value(), weak](lua_State* S) {
      push_page(S, page, weak.lock());
      return 1;
    });
  });
  return true;
}

bool start_pages(lua_State* L) {
  Prologue p;
  if (!begin_browser_call(L, "browser:pages", 2, true, &p)) return false;
  std::weak_ptr<browser::BrowserSession> weak = p.session;
  p.slot.succeed([weak](lua_State* S) {
    auto session = weak.lock();
    lua_newtable(S);
    if (!session) return 1;
    lua_Integer i = 1;
    for (const auto& page : session->pages()) {
      push_page(S, page, session);
      lua_rawseti(S, -2, i++);
    }
    return 1;
  });
  return true;
}

bool start_version(lua_State* L) {
  Prologue p;
  if (!begin_browser_call(L, "browser:version", 2, true, &p)) return false;
  p.session->browser()->version([slot = p.slot](Result<nlohmann::json> r) {
    if (!r) return slot.fail(std::move(r.error()));
    slot.succeed_json(cdp::string_field(r.value(), "product"));
  });
  return true;
}

bool start_restart(lua_State* L) {
  Prologue p;
  if (!begin_browser_call(L, "browser:restart", 2, false, &p)) return false;
  p.session->restart([slot = p.slot](std::optional<Error> error) {
    if (error) return slot.fail(std::move(*error));
    slot.succeed_none();
  });
  return true;
}

bool start_close(lua_State* L) {
  Prologue p;
  if (!begin_browser_call(L, "browser:close", 2, false, &p)) return false;
  p.session->close([slot = p.slot]() { slot.succeed_none(); });
  return true;
}

bool start_cdp(lua_State* L) {
  const char* method = luaL_checkstring(L, 2);
  nlohmann::json params;
  if (!cdp_params(L, 3, "browser:cdp", &params)) return false;
  Prologue p;
  if (!begin_browser_call(L, "browser:cdp", 4, true, &p)) return false;
  p.session->browser()->send(
      cdp::Command{method, std::move(params), "", p.timeout_ms, "browser:cdp"},
      finish_into(p.slot));
  return true;
}

BELAY_YIELDING_BINDING(new_page)
BELAY_YIELDING_BINDING(pages)
BELAY_YIELDING_BINDING(version)
BELAY_YIELDING_BINDING(restart)
BELAY_YIELDING_BINDING(close)
BELAY_YIELDING_BINDING(cdp)

int l_pid(lua_State* L) {
  auto* handle = static_cast<BrowserHandle*>(luaL_checkudata(L, 1, kBrowserMetatable));
  const pid_t pid = [handle] {
    auto session = handle->session.lock();
    return session ? session->pid() : 0;
  }();
  if (pid > 0) {
    lua_pushinteger(L, pid);
  } else {
    lua_pushnil(L);  // an attached browser, or none running
  }
  return 1;
}

int l_gc(lua_State* L) {
  static_cast<BrowserHandle*>(luaL_checkudata(L, 1, kBrowserMetatable))->~BrowserHandle();
  return 0;
}

int l_tostring(lua_State* L) {
  lua_pushliteral(L, "browser");
  return 1;
}

std::vector<luaL_Reg> methods() {
  std::vector<luaL_Reg> out = {
      {"new_page", l_new_page}, {"pages", l_pages}, {"version", l_version}, {"pid", l_pid},
      {"restart", l_restart},   {"close", l_close}, {"cdp", l_cdp},
  };
  add_cookie_methods(&out);
  out.push_back({nullptr, nullptr});
  return out;
}

}  // namespace

void register_browser(lua_State* L) {
  static const std::vector<luaL_Reg> kMethods = methods();
  register_handle_type(L, kBrowserMetatable, kMethods.data(), l_gc, l_tostring);
}

void push_browser(lua_State* L, const std::shared_ptr<browser::BrowserSession>& session) {
  void* memory = lua_newuserdatauv(L, sizeof(BrowserHandle), 0);
  new (memory) BrowserHandle{session};
  luaL_setmetatable(L, kBrowserMetatable);
}

}  // namespace belay::lua
