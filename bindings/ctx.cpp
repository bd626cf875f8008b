// ctx — what run(page, item, ctx) knows about the item it runs: the item,
// its index and attempt, the profile, the campaign, and the recovery moves
// a script may make itself.

#include "ctx.hpp"

#include "error.hpp"
#include "handles.hpp"
#include "json.hpp"

namespace belay::lua {
namespace {

// Upvalue 1 of every ctx method: the browser userdata of the item's profile.
campaign::BrowserSession* session_of(lua_State* L, const char* op) {
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
    push_error(L, Error{Kind::config, "ctx:go_home() needs the campaign's `home`", "ctx:go_home", {}});
    return false;
  }
  campaign::BrowserSession* session = session_of(L, "ctx:go_home");
  if (session == nullptr) return false;
  auto page = session->current_page();
  if (!page) {
    push_error(L, Error{Kind::target_closed, "the profile has no page", "ctx:go_home", {}});
    return false;
  }
  auto slot = Runtime::from(L).begin_call(L, "ctx:go_home");
  if (!slot) return false;
  page->navigate(home, cdp::NavigateOptions{cdp::WaitUntil::load, 30000, "ctx:go_home"},
                 [slot = *slot](Result<nlohmann::json> r) {
                   if (!r) return slot.fail(std::move(r.error()));
                   slot.succeed_none();
                 });
  return true;
}

bool start_reopen_page(lua_State* L) {
  campaign::BrowserSession* session = session_of(L, "ctx:reopen_page");
  if (session == nullptr) return false;
  auto slot = Runtime::from(L).begin_call(L, "ctx:reopen_page");
  if (!slot) return false;
  std::weak_ptr<campaign::BrowserSession> weak =
      static_cast<BrowserHandle*>(lua_touserdata(L, lua_upvalueindex(1)))->session;
  session->reopen_page([slot = *slot, weak](Result<std::shared_ptr<cdp::Page>> page) {
    if (!page) return slot.fail(std::move(page.error()));
    slot.succeed([page = page.value(), weak](lua_State* S) {
      push_page(S, page, weak.lock());
      return 1;
    });
  });
  return true;
}

bool start_restart_browser(lua_State* L) {
  campaign::BrowserSession* session = session_of(L, "ctx:restart_browser");
  if (session == nullptr) return false;
  auto slot = Runtime::from(L).begin_call(L, "ctx:restart_browser");
  if (!slot) return false;
  std::weak_ptr<campaign::BrowserSession> weak =
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

int l_event(lua_State* L) {
  const char* name = luaL_checkstring(L, 2);
  bool ok = false;
  {
    Result<nlohmann::json> params =
        lua_isnoneornil(L, 3) ? Result<nlohmann::json>(nlohmann::json::object()) : to_json(L, 3);
    if (params) {
      ok = true;
      auto& hooks = Runtime::from(L).hooks();
      if (hooks.event) hooks.event(name, params.value());
    } else {
      push_error(L, params.error());
    }
  }
  if (!ok) return lua_error(L);
  return 0;
}

// Durable partial progress needs the store (the durable runner); until a
// runner provides it, these say so instead of pretending.
int l_needs_store(lua_State* L) {
  return raise_error(L, Kind::config, "%s needs the durable campaign runner",
                     lua_tostring(L, lua_upvalueindex(2)));
}

}  // namespace

void push_ctx(lua_State* L, const campaign::ItemAttempt& attempt,
              const std::shared_ptr<campaign::BrowserSession>& session, int campaign_idx) {
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
  if (session && session->current_page()) {
    push_page(L, session->current_page(), session);
    lua_setfield(L, ctx, "page");
  }
  push_browser(L, session);
  const int browser = lua_gettop(L);
  lua_pushvalue(L, browser);
  lua_setfield(L, ctx, "browser");
  const std::pair<const char*, lua_CFunction> methods[] = {
      {"go_home", l_go_home}, {"reopen_page", l_reopen_page},
      {"restart_browser", l_restart_browser}, {"event", l_event}};
  for (const auto& [name, fn] : methods) {
    lua_pushvalue(L, browser);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, ctx, name);
  }
  for (const char* name : {"checkpoint", "pause_profile"}) {
    lua_pushvalue(L, browser);
    lua_pushfstring(L, "ctx:%s", name);
    lua_pushcclosure(L, l_needs_store, 2);
    lua_setfield(L, ctx, name);
  }
  lua_pop(L, 1);  // the browser
}

}  // namespace belay::lua
