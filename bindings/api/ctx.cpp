// ctx — what run(page, item, ctx) knows about the item it runs: the item,
// its index and attempt, the profile, the campaign, and the recovery moves
// a script may make itself.

#include "api/ctx.hpp"

#include "api/handles.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

namespace belay::lua {
namespace {

// Upvalue 1 of every ctx method: the browser userdata of the item's profile.
browser::BrowserSession* session_of(lua_State* L, const char* op) {
  auto* handle = static_cast<BrowserHandle*>(lua_touserdata(L, lua_upvalueindex(1)));
  auto session = handle != nullptr ? handle->session.lock() : nullptr;
  if (!session) {
    push_error(L, Error{Kind::browser_disconnected, "the profile's browser is gone", op, {}});
    return nullptr;
  }
  return session.get();  // owned by the runner for the whole item
}

bool start_go_home(lua_State* L) {
  lua_getfield(L, 1, "campaign");
  lua_getfield(L, -1, "home");
  const char* home = lua_tostring(L, -1);
  if (home == nullptr || *home == '\0') {
    push_error(L,
               Error{Kind::config, "ctx:go_home() needs the campaign's `home`", "ctx:go_home", {}});
    return false;
  }
  browser::BrowserSession* session = session_of(L, "ctx:go_home");
  if (session == nullptr) return false;
  auto page = session->current_page();
  if (!page) {
    push_error(L, Error{Kind::target_closed, "the profile has no page", "ctx:go_home", {}});
    return false;
  }
  auto slot = Runtime::from(L).begin_call(L, "ctx:go_home");
  if (!slot) return false;
  page->navigate(home, browser::NavigateOptions{browser::WaitUntil::load, 30000, "ctx:go_home"},
                 [slot = *slot](Result<nlohmann::json> r) {
                   if (!r) return slot.fail(std::move(r.error()));
                   slot.succeed_none();
                 });
  return true;
}

bool start_reopen_page(lua_State* L) {
  browser::BrowserSession* session = session_of(L, "ctx:reopen_page");
  if (session == nullptr) return false;
  auto slot = Runtime::from(L).begin_call(L, "ctx:reopen_page");
  if (!slot) return false;
  std::weak_ptr<browser::BrowserSession> weak =
      static_cast<BrowserHandle*>(lua_touserdata(L, lua_upvalueindex(1)))->session;
  session->reopen_page([slot = *slot, weak](Result<std::shared_ptr<browser::Page>> page) {
    if (!page) return slot.fail(std::move(page.error()));
    slot.succeed([page = page.value(), weak](lua_State* S) {
      push_page(S, page, weak.lock());
      return 1;
    });
  });
  return true;
}

bool start_restart_browser(lua_State* L) {
  browser::BrowserSession* session = session_of(L, "ctx:restart_browser");
  if (session == nullptr) return false;
  auto slot = Runtime::from(L).begin_call(L, "ctx:restart_browser");
  if (!slot) return false;
  std::weak_ptr<browser::BrowserSession> weak =
      static_cast<BrowserHandle*>(lua_touserdata(L, lua_upvalueindex(1)))->session;
  session->restart([slot = *slot, weak](std::optional<Error> error) {
    if (error) return slot.fail(std::move(*error));
    slot.succeed([weak](lua_State* S) {
      auto s = weak.lock();
      if (s && s->current_page()) {
        push_page(S, s->current_page(), s);
      } else {
        lua_pushnil(S);
      }
      return 1;
    });
  });
  return true;
}

BELAY_YIELDING_BINDING(go_home)
BELAY_YIELDING_BINDING(reopen_page)
BELAY_YIELDING_BINDING(restart_browser)

// Upvalue 2 of every ctx method: the item's host (events, checkpoints,
// pauses), weak so a ctx kept past its item finds the item over.
struct ItemHostHandle {
  std::weak_ptr<campaign::ItemHost> host;
};
constexpr const char* kItemHostMetatable = "belay.item_host";

int l_item_host_gc(lua_State* L) {
  static_cast<ItemHostHandle*>(luaL_checkudata(L, 1, kItemHostMetatable))->~ItemHostHandle();
  return 0;
}

int l_item_host_tostring(lua_State* L) {
  lua_pushliteral(L, "belay.item_host");
  return 1;
}

std::shared_ptr<campaign::ItemHost> item_host(lua_State* L) {
  return item_host_at(L, lua_upvalueindex(2));
}

int l_event(lua_State* L) {
  const char* name = luaL_checkstring(L, 2);
  bool ok = false;
  {
    Result<nlohmann::json> params =
        lua_isnoneornil(L, 3) ? Result<nlohmann::json>(nlohmann::json::object()) : to_json(L, 3);
    if (params) {
      ok = true;
      if (auto host = item_host(L)) {
        host->event(name, params.value(), "", std::nullopt);
      } else if (auto& hooks = Runtime::from(L).hooks(); hooks.event) {
        hooks.event(name, params.value());
      }
    } else {
      push_error(L, params.error());
    }
  }
  if (!ok) return lua_error(L);
  return 0;
}

// ctx:checkpoint(tbl): durable before it returns; ctx.saved is tbl from now
// on, in this attempt and every later one.
int l_checkpoint(lua_State* L) {
  luaL_checktype(L, 2, LUA_TTABLE);
  bool ok = false;
  {
    Result<nlohmann::json> saved = to_json(L, 2);
    auto host = item_host(L);
    if (!saved) {
      Error e = saved.error();
      e.op = "ctx:checkpoint";
      push_error(L, e);
    } else if (!host) {
      push_error(
          L,
          Error{Kind::cancelled, "the item this ctx belongs to has ended", "ctx:checkpoint", {}});
    } else if (auto error = host->checkpoint(saved.value())) {
      error->op = "ctx:checkpoint";
      push_error(L, *error);
    } else {
      ok = true;
    }
  }
  if (!ok) return lua_error(L);
  lua_pushvalue(L, 2);
  lua_setfield(L, 1, "saved");
  return 0;
}

// ctx:pause_profile(ms): the profile takes no new item for `ms` once this
// one has ended.
int l_pause_profile(lua_State* L) {
  const lua_Integer ms = luaL_checkinteger(L, 2);
  if (ms < 0) return raise_error(L, Kind::script, "ctx:pause_profile: ms must be >= 0");
  bool ok = false;
  if (auto host = item_host(L)) {
    host->pause_profile(static_cast<uint64_t>(ms));
    ok = true;
  }
  if (!ok) return raise_error(L, Kind::cancelled, "ctx:pause_profile: the item has ended");
  return 0;
}

// ctx.page is looked up on every access, so after ctx:reopen_page() or
// ctx:restart_browser() it is the new page.
int l_ctx_index(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  if (key == nullptr || std::string_view(key) != "page") return 0;
  auto* handle = static_cast<BrowserHandle*>(lua_touserdata(L, lua_upvalueindex(1)));
  auto session = handle != nullptr ? handle->session.lock() : nullptr;
  if (!session || !session->current_page()) return 0;
  push_page(L, session->current_page(), session);
  return 1;
}

}  // namespace

std::shared_ptr<campaign::ItemHost> item_host_at(lua_State* L, int idx) {
  auto* handle = static_cast<ItemHostHandle*>(luaL_testudata(L, idx, kItemHostMetatable));
  return handle != nullptr ? handle->host.lock() : nullptr;
}

void push_item_host(lua_State* L, const std::shared_ptr<campaign::ItemHost>& host) {
  new (lua_newuserdatauv(L, sizeof(ItemHostHandle), 0)) ItemHostHandle{host};
  luaL_setmetatable(L, kItemHostMetatable);
}

void register_ctx(lua_State* L) {
  static const luaL_Reg kNoMethods[] = {{nullptr, nullptr}};
  register_handle_type(L, kItemHostMetatable, kNoMethods, l_item_host_gc, l_item_host_tostring);
}

void push_ctx(lua_State* L, const campaign::ItemAttempt& attempt,
              const std::shared_ptr<browser::BrowserSession>& session,
              const std::shared_ptr<campaign::ItemHost>& host, int campaign_idx) {
  campaign_idx = lua_absindex(L, campaign_idx);
  lua_createtable(L, 0, 16);
  const int ctx = lua_gettop(L);
  push_json(L, attempt.item);
  lua_setfield(L, ctx, "item");
  lua_pushinteger(L, attempt.index);
  lua_setfield(L, ctx, "index");
  lua_pushinteger(L, attempt.attempt);
  lua_setfield(L, ctx, "attempt");
  lua_pushlstring(L, attempt.profile.data(), attempt.profile.size());
  lua_setfield(L, ctx, "profile");
  lua_pushlstring(L, attempt.key.data(), attempt.key.size());
  lua_setfield(L, ctx, "key");
  lua_pushvalue(L, campaign_idx);
  lua_setfield(L, ctx, "campaign");
  if (!attempt.saved.is_null()) {
    push_json(L, attempt.saved);
    lua_setfield(L, ctx, "saved");
  }
  push_browser(L, session);
  const int browser = lua_gettop(L);
  lua_pushvalue(L, browser);
  lua_setfield(L, ctx, "browser");
  push_item_host(L, host);
  const int host_handle = lua_gettop(L);
  const std::pair<const char*, lua_CFunction> methods[] = {{"go_home", l_go_home},
                                                           {"reopen_page", l_reopen_page},
                                                           {"restart_browser", l_restart_browser},
                                                           {"event", l_event},
                                                           {"checkpoint", l_checkpoint},
                                                           {"pause_profile", l_pause_profile}};
  for (const auto& [name, fn] : methods) {
    lua_pushvalue(L, browser);
    lua_pushvalue(L, host_handle);
    lua_pushcclosure(L, fn, 2);
    lua_setfield(L, ctx, name);
  }
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, browser);
  lua_pushcclosure(L, l_ctx_index, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, ctx);
  lua_settop(L, ctx);
}

}  // namespace belay::lua
