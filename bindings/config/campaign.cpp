#include "config/campaign.hpp"

#include "campaign/item_key.hpp"
#include "campaign/items_file.hpp"
#include "config/field_reader.hpp"
#include "config/ladder.hpp"
#include "config/policy_fields.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace belay::lua {
namespace {

namespace fs = std::filesystem;
using campaign::CampaignConfig;

void read_profiles(Reader& r, lua_State* L, int t, CampaignConfig& c) {
  if (!r.table(t, "profiles", "profiles")) {
    if (!r.failed()) c.profiles.push_back({"default", "", "", {}});
    return;
  }
  const int list = lua_gettop(L);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, list));
  std::set<std::string> names;
  for (lua_Integer i = 1; i <= n && !r.failed(); ++i) {
    const std::string field = "profiles[" + std::to_string(i) + "]";
    campaign::ProfileConfig profile;
    const int type = lua_rawgeti(L, list, i);
    const int idx = lua_gettop(L);
    if (type == LUA_TSTRING) {
      profile.name = lua_tostring(L, idx);
    } else if (type == LUA_TTABLE) {
      r.check_known(idx, field + ".", {"name", "connect", "user_data_dir", "flags"});
      profile.name = r.string(idx, "name", field + ".name").value_or("");
      profile.connect = r.string(idx, "connect", field + ".connect").value_or("");
      profile.user_data_dir = r.string(idx, "user_data_dir", field + ".user_data_dir").value_or("");
      if (!r.failed() && r.table(idx, "flags", field + ".flags")) {
        profile.flags = r.string_list(lua_gettop(L), field + ".flags");
        lua_pop(L, 1);
      }
      if (!profile.connect.empty() && profile.connect.rfind("ws://", 0) != 0) {
        r.fail(field + ".connect", "must be a ws:// URL");
      }
    } else {
      r.fail(field, std::string("must be a name or a table, got ") + luaL_typename(L, idx));
    }
    lua_settop(L, idx - 1);
    if (r.failed()) break;
    if (profile.name.empty() || profile.name.find_first_of("/\\ ") != std::string::npos ||
        profile.name[0] == '.') {
      r.fail(field, "needs a name without spaces or slashes");
    } else if (!names.insert(profile.name).second) {
      r.fail(field, "repeats the profile name '" + profile.name + "'");
    }
    c.profiles.push_back(std::move(profile));
  }
  if (!r.failed() && c.profiles.empty()) r.fail("profiles", "must name at least one profile");
  lua_settop(L, list - 1);
}

}  // namespace

LoadedCampaign::LoadedCampaign(Runtime& runtime, campaign::CampaignConfig config, Refs refs,
                               uint64_t version)
    : runtime_alive_(runtime.alive_token()),
      main_(runtime.main()),
      config_(std::move(config)),
      refs_(refs),
      version_(version) {}

LoadedCampaign::~LoadedCampaign() {
  if (runtime_alive_.expired()) return;
  for (int ref : {refs_.table, refs_.run, refs_.ladder}) luaL_unref(main_, LUA_REGISTRYINDEX, ref);
}

void LoadedCampaign::push_table(lua_State* L) const {
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs_.table);
}
void LoadedCampaign::push_run(lua_State* L) const { lua_rawgeti(L, LUA_REGISTRYINDEX, refs_.run); }
void LoadedCampaign::push_ladder(lua_State* L) const {
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs_.ladder);
}

namespace {

Result<std::vector<nlohmann::json>> read_items(Runtime& runtime, lua_State* task, int t,
                                               const std::string& file, const std::string& source,
                                               std::string* origin);

// timeouts = { action = 10000, navigation = 30000, call = 30000 } (ms).
void read_timeouts(Reader& r, lua_State* L, int t, campaign::TimeoutsConfig& out) {
  if (r.failed() || !r.table(t, "timeouts", "timeouts")) return;
  const int idx = lua_gettop(L);
  r.check_known(idx, "timeouts.", {"action", "navigation", "call"});
  constexpr double kDayMs = 24.0 * 3600 * 1000;
  if (auto v = r.number(idx, "action", "timeouts.action", 1, kDayMs, true)) out.action_ms = *v;
  if (auto v = r.number(idx, "navigation", "timeouts.navigation", 1, kDayMs, true)) {
    out.navigation_ms = *v;
  }
  if (auto v = r.number(idx, "call", "timeouts.call", 1, kDayMs, true)) out.call_ms = *v;
  lua_settop(L, idx - 1);
}

Result<CampaignConfig> read_config(Runtime& runtime, lua_State* task, const std::string& file,
                                   const std::string& source, bool load_items) {
  lua_State* L = task;
  const int t = lua_gettop(L);
  Reader r(L, file, source);
  CampaignConfig c;
  c.file = file;
  r.check_known(t, "",
                {"name", "items", "profiles", "home", "ladder", "retry", "supervisor",
                 "soft_restart", "health", "pause", "timeouts", "files", "dialogs", "run"});
  c.name = r.string(t, "name", "name").value_or(fs::path(file).stem().string());
  c.home = r.string(t, "home", "home").value_or("");
  read_profiles(r, L, t, c);
  // The ladder's policy fields first: the campaign's own override them.
  if (!push_ladder(runtime, L, t, r, c)) return r.take_error();
  const int ladder = lua_gettop(L);
  read_policy_fields(r, L, t, "", c);
  read_timeouts(r, L, t, c.timeouts);
  if (auto dialogs = r.string(t, "dialogs", "dialogs")) {
    if (auto policy = browser::dialog_policy_from_name(*dialogs)) {
      c.dialogs = *policy;
    } else {
      r.fail("dialogs", "must be \"dismiss\" or \"accept\", not \"" + *dialogs + "\"");
    }
  }
  if (!r.failed() && r.table(t, "files", "files")) {
    c.files = r.string_list(lua_gettop(L), "files");
    lua_pop(L, 1);
  }
  if (!r.failed()) {
    if (r.get(t, "run") != LUA_TFUNCTION) r.fail("run", "must be a function(page, item, ctx)");
    lua_pop(L, 1);
  }
  if (!r.failed()) {
    const int type = r.get(t, "items");
    lua_pop(L, 1);
    if (type != LUA_TSTRING && type != LUA_TTABLE && type != LUA_TFUNCTION) {
      r.fail("items", "must be a file name, a list of items or an iterator function");
    }
  }
  if (r.failed()) return r.take_error();
  lua_settop(L, ladder);
  if (load_items) {
    auto items = read_items(runtime, task, t, file, source, &c.items_source);
    if (!items) return items.error();
    c.items = std::move(items.value());
  }
  return c;
}

Result<std::vector<nlohmann::json>> read_items(Runtime& runtime, lua_State* task, int t,
                                               const std::string& file, const std::string& source,
                                               std::string* origin) {
  lua_State* L = task;
  lua_pushliteral(L, "items");
  const int type = lua_rawget(L, t);
  std::vector<nlohmann::json> items;
  if (type == LUA_TSTRING) {
    const std::string name = lua_tostring(L, -1);
    lua_pop(L, 1);
    *origin = name;
    const fs::path path =
        fs::path(name).is_absolute() ? fs::path(name) : fs::path(file).parent_path() / name;
    auto read = campaign::read_items_file(path.string());
    if (!read) return read.error();
    items = std::move(read.value());
  } else if (type == LUA_TTABLE) {
    *origin = "array";
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i);
      auto item = to_json(L, -1);
      lua_pop(L, 1);
      if (!item) {
        return Error{Kind::config,
                     field_error(file, source, "items",
                                 "[" + std::to_string(i) + "]: " + item.error().message),
                     "",
                     {}};
      }
      items.push_back(std::move(item.value()));
    }
    lua_pop(L, 1);
  } else {
    *origin = "iterator";
    // The iterator is script code: each call runs as a task of its own with
    // a slice budget, and may not wait on the browser.
    const int fn = lua_gettop(L);
    // An iterator that never returns nil would grow the host without end:
    // it may give as much as a Lua list could hold, the script's memory cap,
    // each item charged its JSON text and a table's overhead.
    const size_t cap = runtime.state().limits().memory_bytes;
    constexpr size_t kItemOverhead = 64;
    size_t produced = 0;
    for (;;) {
      lua_State* step = runtime.new_task();
      lua_pushvalue(L, fn);
      lua_xmove(L, step, 1);
      ResumeResult res = runtime.state().resume(step, 0);
      if (res.status != ResumeStatus::finished) {
        Error e = res.status == ResumeStatus::error
                      ? to_error(step, -1)
                      : Error{Kind::config, "the items iterator must not wait", "", {}};
        runtime.state().end_task(step);
        e.kind = e.kind == Kind::sandbox ? Kind::sandbox : Kind::config;
        return e;
      }
      const bool end = res.nresults == 0 || lua_isnil(step, -res.nresults);
      std::optional<Result<nlohmann::json>> item;
      if (!end) item = to_json(step, -res.nresults);
      runtime.state().end_task(step);
      if (end) break;
      if (!*item)
        return Error{Kind::config, file + ": items iterator: " + item->error().message, "", {}};
      produced +=
          kItemOverhead +
          item->value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
      if (produced > cap) {
        return Error{Kind::config,
                     file + ": items iterator: gave " + std::to_string(items.size() + 1) +
                         " items, more than the script's " + std::to_string(cap >> 20) +
                         " MiB, without ending (an iterator ends by returning nil); that many "
                         "items belong in an items file",
                     "",
                     {}};
      }
      items.push_back(std::move(item->value()));
    }
    lua_pop(L, 1);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object()) {
      return Error{Kind::config,
                   field_error(file, source, "items",
                               "item " + std::to_string(i + 1) + " is not a table/object"),
                   "",
                   {}};
    }
  }
  auto duplicates = campaign::duplicate_keys(items);
  if (!duplicates.empty()) {
    return Error{Kind::config,
                 field_error(file, source, "items",
                             "has duplicate keys (item.id), first: '" + duplicates.front() + "'"),
                 "",
                 {}};
  }
  return items;
}

}  // namespace

Result<std::shared_ptr<LoadedCampaign>> load_campaign(Runtime& runtime, const std::string& path,
                                                      LoadOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Kind::config, path + ": cannot read the campaign file", "", {}};
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string source = buffer.str();
  lua_State* task = runtime.new_task();
  const std::string chunkname = "@" + path;
  ResumeResult res = runtime.state().run_top_level(task, source, chunkname.c_str());
  auto fail = [&](Error e) -> Result<std::shared_ptr<LoadedCampaign>> {
    runtime.state().end_task(task);
    return e;
  };
  if (res.status == ResumeStatus::error) {
    Error e = to_error(task, -1);
    if (e.kind == Kind::script) e.kind = Kind::config;
    return fail(e);
  }
  if (res.status == ResumeStatus::yielded) {
    return fail(Error{Kind::config, path + ": the top level must not wait on the browser", "", {}});
  }
  if (res.nresults < 1 || lua_type(task, -res.nresults) != LUA_TTABLE) {
    return fail(Error{Kind::config, path + ":1: the campaign file must return a table", "", {}});
  }
  lua_settop(task, lua_gettop(task) - res.nresults + 1);
  auto config = read_config(runtime, task, path, source, options.load_items);
  if (!config) return fail(config.error());
  // The stack: the campaign table, the ladder table.
  const int ladder_ref = luaL_ref(task, LUA_REGISTRYINDEX);
  lua_pushliteral(task, "run");
  lua_rawget(task, -2);
  const int run_ref = luaL_ref(task, LUA_REGISTRYINDEX);
  const int table_ref = luaL_ref(task, LUA_REGISTRYINDEX);
  runtime.state().end_task(task);
  return std::make_shared<LoadedCampaign>(runtime, std::move(config.value()),
                                          LoadedCampaign::Refs{table_ref, run_ref, ladder_ref},
                                          options.version);
}

}  // namespace belay::lua
