#include "lua_executor.hpp"

#include "api/ctx.hpp"
#include "api/handles.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

namespace belay::lua {
namespace {

// host.try(): the attempt number of the try that begins.
int l_host_try(lua_State* L) {
  int attempt = 0;
  if (auto host = item_host_at(L, lua_upvalueindex(1))) attempt = host->begin_try();
  if (attempt == 0) return raise_error(L, Kind::cancelled, "the item has ended");
  lua_pushinteger(L, attempt);
  return 1;
}

// host.event(name, params, outcome, dur_ms)
int l_host_event(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  const char* outcome = luaL_optstring(L, 3, "");
  const lua_Integer dur = luaL_optinteger(L, 4, -1);
  bool ok = false;
  {
    Result<nlohmann::json> params =
        lua_isnoneornil(L, 2) ? Result<nlohmann::json>(nlohmann::json::object()) : to_json(L, 2);
    if (params) {
      ok = true;
      if (auto host = item_host_at(L, lua_upvalueindex(1))) {
        host->event(name, params.value(), outcome,
                    dur >= 0 ? std::optional<uint64_t>(dur) : std::nullopt);
      }
    } else {
      push_error(L, params.error());
    }
  }
  if (!ok) return lua_error(L);
  return 0;
}

// host.ready(): waits until the profile's browser is up (see
// ItemHost::when_ready); raises when it will not be.
bool start_host_ready(lua_State* L) {
  auto host = item_host_at(L, lua_upvalueindex(1));
  if (!host) {
    push_error(L, Error{Kind::cancelled, "the item has ended", "browser", {}});
    return false;
  }
  auto slot = Runtime::from(L).begin_call(L, "browser");
  if (!slot) return false;
  host->when_ready([slot = *slot](std::optional<Error> error) {
    if (error) return slot.fail(std::move(*error));
    slot.succeed([](lua_State*) { return 0; });
  });
  return true;
}

BELAY_YIELDING_BINDING(host_ready)

void push_retry_policy(lua_State* L, const campaign::RetryConfig& retry) {
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, retry.attempts);
  lua_setfield(L, -2, "attempts");
  lua_pushnumber(L, retry.base_ms);
  lua_setfield(L, -2, "base_ms");
  lua_pushnumber(L, retry.factor);
  lua_setfield(L, -2, "factor");
  lua_pushnumber(L, retry.max_ms);
  lua_setfield(L, -2, "max_ms");
  lua_pushnumber(L, retry.jitter);
  lua_setfield(L, -2, "jitter");
  lua_createtable(L, static_cast<int>(retry.kinds.size()), 0);
  for (size_t i = 0; i < retry.kinds.size(); ++i) {
    lua_pushlstring(L, retry.kinds[i].data(), retry.kinds[i].size());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "kinds");
}

}  // namespace

void LuaExecutor::run_item(const campaign::ItemAttempt& attempt,
                           std::shared_ptr<browser::BrowserSession> session,
                           std::shared_ptr<campaign::ItemHost> host, Done done) {
  lua_State* task = runtime_.new_task();
  if (task == nullptr) {
    return done(Error{Kind::sandbox, "no memory left to start the item", "run", {}});
  }
  std::shared_ptr<LoadedCampaign> version = campaign_;
  // driver(run, ladder, policy, item, ctx, host)
  lua_rawgeti(task, LUA_REGISTRYINDEX, driver_ref_);
  version->push_run(task);
  version->push_ladder(task);
  push_retry_policy(task, version->config().retry);
  push_json(task, attempt.item);
  version->push_table(task);
  push_ctx(task, attempt, session, host, -1);
  lua_remove(task, -2);  // the campaign table, now inside ctx
  lua_createtable(task, 0, 2);
  push_item_host(task, host);
  lua_pushvalue(task, -1);
  lua_pushcclosure(task, l_host_try, 1);
  lua_setfield(task, -3, "try");
  lua_pushvalue(task, -1);
  lua_pushcclosure(task, l_host_ready, 1);
  lua_setfield(task, -3, "ready");
  lua_pushcclosure(task, l_host_event, 1);
  lua_setfield(task, -2, "event");
  runtime_.start(task, 6,
                 [version, done = std::move(done)](lua_State* t, const ResumeResult& result) {
                   if (result.status == ResumeStatus::error) {
                     // A plain error() names no call: it came from the run.
                     Error e = to_error(t, -1);
                     if (e.op.empty()) e.op = "run";
                     return done(std::move(e));
                   }
                   if (result.nresults == 0) return done(nlohmann::json(nullptr));
                   auto value = to_json(t, -result.nresults);
                   if (!value) {
                     Error e = value.error();
                     e.message = "run returned a value that is not JSON: " + e.message;
                     return done(std::move(e));
                   }
                   done(std::move(value.value()));
                 });
}

}  // namespace belay::lua
