// page:wait_for_function(js, opts, ...) polls from the host (browser::
// wait_for_function). page:wait_for_url(glob_or_fn, opts) is a small Lua
// loop over page:url() and belay.sleep, so a predicate the script passes
// runs as ordinary script code; the C side checks the arguments and options
// and names its errors page:wait_for_url.

#include "api/page_waits.hpp"

#include "api/handles.hpp"
#include "api/options.hpp"
#include "browser/page_waits.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/sandbox.hpp"

#include <string>

namespace belay::lua {
namespace {

constexpr const char* kWaitForUrl = "page:wait_for_url";
constexpr const char* kHelperKey = "belay.wait_for_url";

bool start_wait_for_function(lua_State* L) {
  size_t size = 0;
  const char* source = luaL_checklstring(L, 2, &size);
  browser::FunctionWait wait;
  {
    Options o(L, 3, "page:wait_for_function", {"polling_ms", "timeout"});
    wait.polling_ms = static_cast<uint64_t>(o.number("polling_ms", 10, 60000, true).value_or(100));
    wait.timeout_ms = o.timeout(Runtime::from(L).hooks().action_timeout_ms);
    if (!o.ok()) return o.push_error();
  }
  for (int i = 4; i <= lua_gettop(L); ++i) {
    Result<nlohmann::json> arg = to_json(L, i);
    if (!arg) {
      push_error(L, Error{Kind::script,
                          "argument " + std::to_string(i - 3) + ": " + arg.error().message,
                          "page:wait_for_function",
                          {}});
      return false;
    }
    wait.args.push_back(std::move(arg.value()));
  }
  wait.source.assign(source, size);
  wait.call = !wait.args.empty() || looks_like_function(source, size);
  browser::ScriptTarget* page = nullptr;
  CallSlot slot;
  if (!begin_target_call(L, "page:wait_for_function", &page, &slot)) return false;
  Runtime::from(L).on_call_abandoned(
      slot, browser::wait_for_function(*page, std::move(wait), finish_into(slot)));
  return true;
}

BELAY_YIELDING_BINDING(wait_for_function)

// The loop of page:wait_for_url. `raise(kind, message)` raises an error
// table whose op is page:wait_for_url; `glob(glob, url)` is
// browser::url_matches_glob.
constexpr const char* kWaitForUrlLua = R"LUA(
return function(page, want, timeout_ms, raise, glob)
  local match = want
  if type(want) == "string" then
    match = function(url) return glob(want, url) end
  end
  local deadline = belay.now() + timeout_ms
  local last
  while true do
    local ok, url = pcall(page.url, page)
    if ok then
      last = url
      if match(url) then return url end
    elseif type(url) == "table" and url.kind ~= "context_destroyed" then
      raise(url.kind, url.message)   -- the page went, the call was cancelled
    elseif type(url) ~= "table" then
      error(url, 0)
    end
    local left = deadline - belay.now()
    if left <= 0 then
      raise("timeout", "the URL did not match within " .. timeout_ms .. " ms (last: " ..
            tostring(last) .. ")")
    end
    belay.sleep(left < 50 and left or 50)
  end
end
)LUA";

int l_raise_wait_error(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  size_t len = 0;
  const char* message = luaL_optlstring(L, 2, "", &len);
  const Kind kind = kind_from_name(name).value_or(Kind::script);
  push_plain_error(L, kind, std::string_view(message, len), kWaitForUrl);
  return lua_error(L);
}

int l_glob(lua_State* L) {
  lua_pushboolean(L, browser::url_matches_glob(luaL_checkstring(L, 1), luaL_checkstring(L, 2)));
  return 1;
}

// The loop's function, loaded once per state (after `belay` exists).
bool push_helper(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kHelperKey) == LUA_TFUNCTION) return true;
  lua_pop(L, 1);
  if (load_sandboxed(L, kWaitForUrlLua, "=page:wait_for_url") != LUA_OK) return false;
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) return false;
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kHelperKey);
  return true;
}

int finish_wait_for_url(lua_State* L, int /*status*/, lua_KContext base) {
  return lua_gettop(L) - static_cast<int>(base);
}

int l_wait_for_url(lua_State* L) {
  lua_settop(L, 3);
  if (live_target(L, 1, kWaitForUrl) == nullptr) return lua_error(L);
  if (lua_type(L, 2) != LUA_TSTRING && lua_type(L, 2) != LUA_TFUNCTION) {
    push_plain_error(L, Kind::script,
                     "page:wait_for_url: expected a glob string or a function(url), got a " +
                         std::string(luaL_typename(L, 2)),
                     kWaitForUrl);
    return lua_error(L);
  }
  uint64_t timeout_ms = 0;
  // The options are read (and gone) before lua_error, a longjmp, may run.
  if (!read_timeout_option(L, 3, kWaitForUrl, Runtime::from(L).hooks().action_timeout_ms,
                           &timeout_ms)) {
    return lua_error(L);
  }
  const int base = lua_gettop(L);
  if (!push_helper(L)) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushinteger(L, static_cast<lua_Integer>(timeout_ms));
  lua_pushcfunction(L, l_raise_wait_error);
  lua_pushcfunction(L, l_glob);
  lua_callk(L, 5, 1, base, finish_wait_for_url);
  return finish_wait_for_url(L, LUA_OK, base);
}

}  // namespace

void add_wait_methods(std::vector<luaL_Reg>* methods) {
  methods->insert(methods->end(), {
                                      {"wait_for_function", l_wait_for_function},
                                      {"wait_for_url", l_wait_for_url},
                                  });
}

}  // namespace belay::lua
