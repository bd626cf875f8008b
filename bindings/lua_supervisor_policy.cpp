#include "lua_supervisor_policy.hpp"

#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <filesystem>

namespace belay::lua {
namespace {

using campaign::DecisionPoint;
using json = nlohmann::json;

// Where a decision point's function sits in a campaign or ladder table:
// t[field] itself (a function) when `key` is "decide", or t[field][key].
struct Place {
  const char* field;
  const char* key;
};

Place place_of(DecisionPoint point) {
  switch (point) {
    case DecisionPoint::after_death:
      return {"supervisor", "decide"};
    case DecisionPoint::after_item:
      return {"pause", "decide"};
    case DecisionPoint::between_items:
      return {"soft_restart", "decide"};
    case DecisionPoint::pause_ended:
      return {"pause", "ended"};
  }
  return {"?", "?"};
}

// The campaign's settings the function decides with.
json options_for(DecisionPoint point, const campaign::CampaignConfig& c) {
  switch (point) {
    case DecisionPoint::after_death:
      return {{"max_restarts", c.supervisor.max_restarts},
              {"period_ms", c.supervisor.period_ms},
              {"delay_ms", c.supervisor.delay_ms}};
    case DecisionPoint::between_items:
      return {{"items", c.soft_restart.items},
              {"ms", c.soft_restart.ms},
              {"memory_mb", c.soft_restart.memory_mb}};
    case DecisionPoint::after_item:
    case DecisionPoint::pause_ended:
      return {{"max_error_streak", c.pause.max_error_streak}, {"ms", c.pause.ms}};
  }
  return json::object();
}

// " (greet.lua:12)" for a Lua function at the top of L.
std::string where_defined(lua_State* L) {
  lua_Debug ar;
  lua_pushvalue(L, -1);
  if (!lua_getinfo(L, ">S", &ar) || ar.linedefined <= 0) return "";
  // The file's name, as the script's own errors give it (at FILE:LINE).
  const std::string file = std::filesystem::path(ar.short_src).filename().string();
  return " (" + file + ":" + std::to_string(ar.linedefined) + ")";
}

// With the table at the top of L, pushes the place's function and names it
// `what` + "supervisor" or `what` + "pause.ended"; pushes nothing and
// returns false when the table has none.
bool push_own_function(lua_State* L, Place place, const std::string& what, std::string& name) {
  if (!lua_istable(L, -1)) return false;
  lua_pushstring(L, place.field);
  const int type = lua_rawget(L, -2);
  if (type == LUA_TFUNCTION && std::string(place.key) == "decide") {
    name = what + place.field + where_defined(L);
    return true;
  }
  if (type == LUA_TTABLE) {
    lua_pushstring(L, place.key);
    if (lua_rawget(L, -2) == LUA_TFUNCTION) {
      name = what + place.field + "." + place.key + where_defined(L);
      lua_remove(L, -2);
      return true;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return false;
}

// Pushes the facts and the options (lua_pcall'd: a state at its memory
// cap raises here, and must not reach the panic handler).
struct Arguments {
  const json* facts;
  const json* options;
};
int push_arguments(lua_State* L) {
  const auto* args = static_cast<const Arguments*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  push_json(L, *args->facts);
  push_json(L, *args->options);
  return 2;
}

}  // namespace

Result<campaign::PolicyAnswer> LuaSupervisorPolicy::decide(DecisionPoint point, const json& facts,
                                                           bool bundled) {
  // Held for the call: a reload meanwhile must not free the function.
  std::shared_ptr<LoadedCampaign> loaded = current_();
  lua_State* L = runtime_.main();
  const int top = lua_gettop(L);
  const Place place = place_of(point);
  std::string name;
  bool found = false;
  if (!bundled && loaded) {
    loaded->push_table(L);
    found = push_own_function(L, place, "the campaign's ", name);
    lua_remove(L, found ? -2 : -1);
    if (!found) {
      loaded->push_ladder(L);
      found = push_own_function(L, place, "the ladder's ", name);
      lua_remove(L, found ? -2 : -1);
    }
  }
  if (!found) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, module_ref_);
    lua_getfield(L, -1, std::string(campaign::name(point)).c_str());
    lua_remove(L, -2);
    name = "belay.supervisor." + std::string(campaign::name(point));
    if (!lua_isfunction(L, -1)) {
      lua_settop(L, top);
      return Error{Kind::config, name + " is not a function", "supervisor", {}};
    }
  }
  lua_State* task = runtime_.state().new_task();
  if (task == nullptr) {
    lua_settop(L, top);
    return Error{Kind::sandbox, "no memory left to call " + name, "supervisor", {}};
  }
  lua_xmove(L, task, 1);
  lua_settop(L, top);
  const json options = loaded ? options_for(point, loaded->config()) : json::object();
  Arguments args{&facts, &options};
  lua_pushcfunction(task, push_arguments);
  lua_pushlightuserdata(task, &args);
  if (lua_pcall(task, 1, 2, 0) != LUA_OK) {
    runtime_.state().end_task(task);
    return Error{Kind::sandbox, "no memory left to call " + name, "supervisor", {}};
  }
  const ResumeResult res = runtime_.state().resume(task, 2);
  Result<campaign::PolicyAnswer> answer = campaign::PolicyAnswer{nullptr, name};
  if (res.status == ResumeStatus::error) {
    const Error raised = to_error(task, -1);
    answer = Error{Kind::config, name + " raised " + raised.to_string(), "supervisor", {}};
  } else if (res.status == ResumeStatus::yielded) {
    answer = Error{Kind::config,
                   name +
                       " waited: a supervisor decision is made at once (no browser calls, "
                       "no waits)",
                   "supervisor",
                   {}};
  } else if (res.nresults > 0) {
    const int first = lua_gettop(task) - res.nresults + 1;
    if (!lua_isnil(task, first) && !(lua_isboolean(task, first) && !lua_toboolean(task, first))) {
      Result<json> decision = to_json(task, first);
      if (!decision) {
        answer = Error{Kind::config,
                       name + " returned a decision that is not data: " + decision.error().message,
                       "supervisor",
                       {}};
      } else {
        json value = std::move(decision.value());
        // An empty Lua table reads as an empty array.
        if (value.is_array() && value.empty()) value = json::object();
        answer = campaign::PolicyAnswer{std::move(value), name};
      }
    }
  }
  runtime_.state().end_task(task);
  return answer;
}

}  // namespace belay::lua
