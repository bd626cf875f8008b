#include "config/policy_fields.hpp"

namespace belay::lua {
namespace {

constexpr double kHuge = 1e15;

void read_retry(Reader& r, lua_State* L, int t, const std::string& p,
                campaign::RetryConfig& retry) {
  if (!r.table(t, "retry", p + "retry")) return;
  const int idx = lua_gettop(L);
  r.check_known(idx, p + "retry.", {"attempts", "base_ms", "factor", "max_ms", "jitter", "kinds"});
  if (auto v = r.number(idx, "attempts", p + "retry.attempts", 1, 1000, true)) retry.attempts = *v;
  if (auto v = r.number(idx, "base_ms", p + "retry.base_ms", 0, kHuge, false)) retry.base_ms = *v;
  if (auto v = r.number(idx, "factor", p + "retry.factor", 1, 100, false)) retry.factor = *v;
  if (auto v = r.number(idx, "max_ms", p + "retry.max_ms", 0, kHuge, false)) retry.max_ms = *v;
  if (auto v = r.number(idx, "jitter", p + "retry.jitter", 0, 1, false)) retry.jitter = *v;
  if (!r.failed() && r.table(idx, "kinds", p + "retry.kinds")) {
    retry.kinds = r.string_list(lua_gettop(L), p + "retry.kinds");
    for (const auto& kind : retry.kinds) {
      if (!kind_from_name(kind)) r.fail(p + "retry.kinds", "'" + kind + "' is not an error kind");
    }
    lua_pop(L, 1);
  }
  lua_settop(L, idx - 1);
}

// t[key] at `idx`, when set, must be a function (the policy's own).
void function_field(Reader& r, lua_State* L, int idx, const std::string& field, const char* key) {
  const int type = r.get(idx, key);
  if (type != LUA_TNIL && type != LUA_TFUNCTION) {
    r.fail(field, std::string("must be a function, got ") + luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

// Pushes t[key] when it is a table whose keys are all in `known`. With
// `decides`, t[key] may instead be a function (the decision itself), and
// its table may hold `decide` (and `ended` for pause): nothing is pushed
// for a function.
bool limits_table(Reader& r, lua_State* L, int t, const std::string& p, const char* key,
                  std::initializer_list<const char*> known, bool decides = false) {
  if (decides) {
    const int type = r.get(t, key);
    const char* type_name = luaL_typename(L, -1);
    lua_pop(L, 1);
    if (type == LUA_TFUNCTION) return false;
    if (type != LUA_TNIL && type != LUA_TTABLE) {
      r.fail(p + key, std::string("must be a table or a function, got ") + type_name);
      return false;
    }
  }
  if (!r.table(t, key, p + key)) return false;
  r.check_known(lua_gettop(L), p + key + ".", known);
  if (decides && !r.failed()) {
    function_field(r, L, lua_gettop(L), p + key + ".decide", "decide");
    function_field(r, L, lua_gettop(L), p + key + ".ended", "ended");
  }
  if (r.failed()) {
    lua_pop(L, 1);
    return false;
  }
  return true;
}

}  // namespace

void read_policy_fields(Reader& r, lua_State* L, int t, const std::string& p,
                        campaign::CampaignConfig& c) {
  read_retry(r, L, t, p, c.retry);
  if (limits_table(r, L, t, p, "supervisor", {"max_restarts", "period_ms", "delay_ms", "decide"},
                   true)) {
    const int idx = lua_gettop(L);
    if (auto v = r.number(idx, "max_restarts", p + "supervisor.max_restarts", 0, 1e6, true)) {
      c.supervisor.max_restarts = *v;
    }
    if (auto v = r.number(idx, "period_ms", p + "supervisor.period_ms", 0, kHuge, false)) {
      c.supervisor.period_ms = *v;
    }
    if (auto v = r.number(idx, "delay_ms", p + "supervisor.delay_ms", 0, kHuge, false)) {
      c.supervisor.delay_ms = *v;
    }
    lua_settop(L, idx - 1);
  }
  if (limits_table(r, L, t, p, "soft_restart", {"items", "ms", "memory_mb", "decide"}, true)) {
    const int idx = lua_gettop(L);
    if (auto v = r.number(idx, "items", p + "soft_restart.items", 0, kHuge, true)) {
      c.soft_restart.items = *v;
    }
    if (auto v = r.number(idx, "ms", p + "soft_restart.ms", 0, kHuge, false))
      c.soft_restart.ms = *v;
    if (auto v = r.number(idx, "memory_mb", p + "soft_restart.memory_mb", 0, kHuge, false)) {
      c.soft_restart.memory_mb = *v;
    }
    lua_settop(L, idx - 1);
  }
  if (limits_table(r, L, t, p, "health", {"interval_ms", "timeout_ms"})) {
    const int idx = lua_gettop(L);
    // 0 turns the heartbeat off.
    if (auto v = r.number(idx, "interval_ms", p + "health.interval_ms", 0, kHuge, false)) {
      c.health.interval_ms = *v;
    }
    if (auto v = r.number(idx, "timeout_ms", p + "health.timeout_ms", 1, kHuge, false)) {
      c.health.timeout_ms = *v;
    }
    lua_settop(L, idx - 1);
  }
  if (limits_table(r, L, t, p, "pause", {"max_error_streak", "ms", "remind_ms", "decide", "ended"},
                   true)) {
    const int idx = lua_gettop(L);
    if (auto v = r.number(idx, "max_error_streak", p + "pause.max_error_streak", 0, 1e6, true)) {
      c.pause.max_error_streak = *v;
    }
    if (auto v = r.number(idx, "ms", p + "pause.ms", 0, kHuge, false)) c.pause.ms = *v;
    if (auto v = r.number(idx, "remind_ms", p + "pause.remind_ms", 1000, kHuge, false)) {
      c.pause.remind_ms = *v;
    }
    lua_settop(L, idx - 1);
  }
}

}  // namespace belay::lua
