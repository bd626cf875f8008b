// The console's own globals: the profiles of a live run (page_of, browser_of,
// ctx_of, use), the campaign's ladder, the host functions the command
// defines (status, pause, ...), and step() written in Lua on top of them.
// Each C function checks its arguments, does its C++ work in a helper that
// returns, then raises or returns with only plain values alive.

#include "api/ctx.hpp"
#include "api/handles.hpp"
#include "repl/repl_impl.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

namespace belay::lua {
namespace {

enum class What { page, browser, ctx };

bool push_profile_object(lua_State* L, What what, const char* op) {
  ReplImpl& repl = ReplImpl::from_upvalue(L);
  const std::string profile =
      lua_isnoneornil(L, 1) ? repl.profile_in_use() : std::string(luaL_checkstring(L, 1));
  auto session = repl.lookup(profile);
  if (!session) {
    push_error(L, Error{Kind::config, "no profile named '" + profile + "'", op, {}});
    return false;
  }
  if (what == What::browser) {
    push_browser(L, session);
  } else if (what == What::page) {
    auto page = session->current_page();
    if (!page) {
      push_error(L, Error{Kind::target_closed, "profile '" + profile + "' has no page", op, {}});
      return false;
    }
    push_page(L, page, session);
  } else {
    campaign::ItemAttempt attempt;
    attempt.profile = profile;
    attempt.index = 0;
    attempt.attempt = 0;
    if (repl.campaign()) {
      repl.campaign()->push_table(L);
    } else {
      lua_newtable(L);
    }
    push_ctx(L, attempt, session, nullptr, -1);
    lua_remove(L, -2);
  }
  return true;
}

int l_page_of(lua_State* L) {
  if (!push_profile_object(L, What::page, "page_of")) return lua_error(L);
  return 1;
}

int l_browser_of(lua_State* L) {
  if (!push_profile_object(L, What::browser, "browser_of")) return lua_error(L);
  return 1;
}

int l_ctx_of(lua_State* L) {
  if (!push_profile_object(L, What::ctx, "ctx_of")) return lua_error(L);
  return 1;
}

bool select_profile(lua_State* L, const char* profile) {
  ReplImpl& repl = ReplImpl::from_upvalue(L);
  if (auto e = repl.use_profile(profile)) {
    push_error(L, *e);
    return false;
  }
  return true;
}

// use(p): `page` and `browser` follow profile p from the next chunk on.
int l_use(lua_State* L) {
  const char* profile = luaL_checkstring(L, 1);
  if (!select_profile(L, profile)) return lua_error(L);
  lua_pushvalue(L, 1);
  return 1;
}

int l_ladder(lua_State* L) {
  ReplImpl& repl = ReplImpl::from_upvalue(L);
  if (!repl.campaign()) {
    return raise_error(L, Kind::config, "no campaign is loaded in this console");
  }
  repl.campaign()->push_ladder(L);
  return 1;
}

bool call_host_function(lua_State* L) {
  ReplImpl& repl = ReplImpl::from_upvalue(L);
  const auto index = static_cast<size_t>(lua_tointeger(L, lua_upvalueindex(2)));
  nlohmann::json args = nlohmann::json::array();
  for (int i = 1; i <= lua_gettop(L); ++i) {
    Result<nlohmann::json> arg = to_json(L, i);
    if (!arg) {
      push_error(L, arg.error());
      return false;
    }
    args.push_back(std::move(arg.value()));
  }
  Result<nlohmann::json> result = repl.host_function(index)(args);
  if (!result) {
    push_error(L, result.error());
    return false;
  }
  lua_settop(L, 0);
  if (result.value().is_null()) {
    lua_pushnil(L);
  } else {
    push_json(L, result.value());
  }
  return true;
}

int l_host_function(lua_State* L) {
  if (!call_host_function(L)) return lua_error(L);
  return 1;
}

}  // namespace

const char kReplPrelude[] = R"LUA(
-- step(profile, name): runs one step of the campaign's ladder on a profile,
-- as the ladder itself would (its run(page, ctx)).
function step(profile, name)
  if name == nil then profile, name = nil, profile end
  for _, s in ipairs(ladder().steps) do
    if s.name == name then
      s.run(page_of(profile), ctx_of(profile))
      return "step " .. name .. " done"
    end
  end
  belay.error("config", "the ladder has no step named " .. tostring(name))
end

-- help(): what this console has, in a few lines.
function help()
  local lines = {
    "Lua 5.4 in the campaign's sandbox; a browser call waits for its answer.",
    "  =expr, or a bare expression    prints its values (JSON null prints as null)",
    "  page, browser                  the profile in use's page and browser",
    "  page_of(p), browser_of(p), ctx_of(p), use(p)   another profile's; use() switches",
    "  ladder(), step(p, name)        the campaign's ladder; run one of its steps",
  }
  if status then
    lines[#lines + 1] = "  status(), events(n)            the run's counts and profiles; its last events"
    lines[#lines + 1] = "  pause(p [, ms | {ms, close_browser}]), resume(p)   hold a profile, or let it go"
    lines[#lines + 1] = "  reload()                       reload the campaign as a saved file would"
  end
  lines[#lines + 1] = "  Ctrl-C cancels the running chunk; Ctrl-D leaves" ..
    (status and " (the run goes on)" or "")
  lines[#lines + 1] = "  docs/repl.md and docs/lua-api.md tell the rest"
  print(table.concat(lines, "\n"))
end
)LUA";

void add_profile_globals(lua_State* L, int env_idx, ReplImpl* repl) {
  env_idx = lua_absindex(L, env_idx);
  const std::pair<const char*, lua_CFunction> functions[] = {{"page_of", l_page_of},
                                                             {"browser_of", l_browser_of},
                                                             {"ctx_of", l_ctx_of},
                                                             {"use", l_use},
                                                             {"ladder", l_ladder}};
  for (const auto& [name, fn] : functions) {
    lua_pushlightuserdata(L, repl);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, env_idx, name);
  }
}

void push_host_function(lua_State* L, ReplImpl* repl, size_t index) {
  lua_pushlightuserdata(L, repl);
  lua_pushinteger(L, static_cast<lua_Integer>(index));
  lua_pushcclosure(L, l_host_function, 2);
}

}  // namespace belay::lua
