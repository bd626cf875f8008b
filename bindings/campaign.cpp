#include "campaign.hpp"

#include "campaign/items_file.hpp"
#include "campaign/item_key.hpp"
#include "error.hpp"
#include "json.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace belay::lua {
namespace {

namespace fs = std::filesystem;
using campaign::CampaignConfig;

// Reads the campaign table (on top of the task's stack) field by field. The
// first problem wins; everything after is skipped.
class Reader {
 public:
  Reader(lua_State* L, const std::string& file, const std::string& source)
      : L_(L), file_(file), source_(source) {}

  bool failed() const { return error_.has_value(); }
  Error take_error() { return std::move(*error_); }

  void fail(const std::string& field, const std::string& message) {
    if (!error_) error_ = Error{Kind::config, field_error(file_, source_, field, message), "", {}};
  }

  // Pushes t[key] (raw) for the table at idx.
  int get(int idx, const char* key) {
    lua_pushstring(L_, key);
    return lua_rawget(L_, idx);
  }

  void check_known(int idx, const std::string& prefix, std::initializer_list<const char*> known) {
    lua_pushnil(L_);
    while (!failed() && lua_next(L_, idx) != 0) {
      lua_pop(L_, 1);
      if (lua_type(L_, -1) != LUA_TSTRING) {
        fail(prefix.empty() ? "?" : prefix, "has a key that is not a name");
        break;
      }
      const std::string key = lua_tostring(L_, -1);
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (!ok) fail(prefix + key, "is not a known field");
    }
    if (failed()) lua_settop(L_, idx);
  }

  std::optional<double> number(int idx, const char* key, const std::string& field, double min,
                               double max, bool integer) {
    const int type = get(idx, key);
    std::optional<double> out;
    if (type == LUA_TNIL) {
    } else if (type != LUA_TNUMBER || (integer && lua_isinteger(L_, -1) == 0)) {
      fail(field, std::string("must be ") + (integer ? "an integer" : "a number") + ", got " +
                      luaL_typename(L_, -1));
    } else {
      const double v = lua_tonumber(L_, -1);
      if (v < min || v > max) {
        fail(field, "must be between " + fmt(min) + " and " + fmt(max) + ", got " + fmt(v));
      } else {
        out = v;
      }
    }
    lua_pop(L_, 1);
    return out;
  }

  std::optional<std::string> string(int idx, const char* key, const std::string& field) {
    const int type = get(idx, key);
    std::optional<std::string> out;
    if (type == LUA_TSTRING) {
      out = lua_tostring(L_, -1);
    } else if (type != LUA_TNIL) {
      fail(field, std::string("must be a string, got ") + luaL_typename(L_, -1));
    }
    lua_pop(L_, 1);
    return out;
  }

  // The sub-table `key` pushed, or false (nothing pushed) when absent/bad.
  bool table(int idx, const char* key, const std::string& field) {
    const int type = get(idx, key);
    if (type == LUA_TTABLE) return true;
    if (type != LUA_TNIL) fail(field, std::string("must be a table, got ") + luaL_typename(L_, -1));
    lua_pop(L_, 1);
    return false;
  }

  std::vector<std::string> string_list(int idx, const std::string& field) {
    std::vector<std::string> out;
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L_, idx));
    for (lua_Integer i = 1; i <= n && !failed(); ++i) {
      if (lua_rawgeti(L_, idx, i) != LUA_TSTRING) {
        fail(field + "[" + std::to_string(i) + "]", "must be a string");
      } else {
        out.emplace_back(lua_tostring(L_, -1));
      }
      lua_pop(L_, 1);
    }
    return out;
  }

 private:
  static std::string fmt(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  lua_State* L_;
  const std::string& file_;
  const std::string& source_;
  std::optional<Error> error_;
};

constexpr double kHuge = 1e15;

void read_retry(Reader& r, lua_State* L, int t, campaign::RetryConfig& retry) {
  if (!r.table(t, "retry", "retry")) return;
  const int idx = lua_gettop(L);
  r.check_known(idx, "retry.", {"attempts", "base_ms", "factor", "max_ms", "jitter", "kinds"});
  if (auto v = r.number(idx, "attempts", "retry.attempts", 1, 1000, true)) retry.attempts = *v;
  if (auto v = r.number(idx, "base_ms", "retry.base_ms", 0, kHuge, false)) retry.base_ms = *v;
  if (auto v = r.number(idx, "factor", "retry.factor", 1, 100, false)) retry.factor = *v;
  if (auto v = r.number(idx, "max_ms", "retry.max_ms", 0, kHuge, false)) retry.max_ms = *v;
  if (auto v = r.number(idx, "jitter", "retry.jitter", 0, 1, false)) retry.jitter = *v;
  if (!r.failed() && r.table(idx, "kinds", "retry.kinds")) {
    retry.kinds = r.string_list(lua_gettop(L), "retry.kinds");
    for (const auto& kind : retry.kinds) {
      if (!kind_from_name(kind)) r.fail("retry.kinds", "'" + kind + "' is not an error kind");
    }
    lua_pop(L, 1);
  }
  lua_settop(L, idx - 1);
}

// supervisor, soft_restart, health, pause: tables of non-negative numbers.
void read_limits(Reader& r, lua_State* L, int t, CampaignConfig& c) {
  if (r.table(t, "supervisor", "supervisor")) {
    const int idx = lua_gettop(L);
    r.check_known(idx, "supervisor.", {"max_restarts", "period_ms", "delay_ms"});
    if (auto v = r.number(idx, "max_restarts", "supervisor.max_restarts", 0, 1e6, true)) {
      c.supervisor.max_restarts = *v;
    }
    if (auto v = r.number(idx, "period_ms", "supervisor.period_ms", 0, kHuge, false)) {
      c.supervisor.period_ms = *v;
    }
    if (auto v = r.number(idx, "delay_ms", "supervisor.delay_ms", 0, kHuge, false)) {
      c.supervisor.delay_ms = *v;
    }
    lua_settop(L, idx - 1);
  }
  if (r.table(t, "soft_restart", "soft_restart")) {
    const int idx = lua_gettop(L);
    r.check_known(idx, "soft_restart.", {"items", "ms"});
    if (auto v = r.number(idx, "items", "soft_restart.items", 0, kHuge, true)) c.soft_restart.items = *v;
    if (auto v = r.number(idx, "ms", "soft_restart.ms", 0, kHuge, false)) c.soft_restart.ms = *v;
    lua_settop(L, idx - 1);
  }
  if (r.table(t, "health", "health")) {
    const int idx = lua_gettop(L);
    r.check_known(idx, "health.", {"interval_ms", "timeout_ms"});
    if (auto v = r.number(idx, "interval_ms", "health.interval_ms", 1, kHuge, false)) {
      c.health.interval_ms = *v;
    }
    if (auto v = r.number(idx, "timeout_ms", "health.timeout_ms", 1, kHuge, false)) {
      c.health.timeout_ms = *v;
    }
    lua_settop(L, idx - 1);
  }
  if (r.table(t, "pause", "pause")) {
    const int idx = lua_gettop(L);
    r.check_known(idx, "pause.", {"max_error_streak", "ms"});
    if (auto v = r.number(idx, "max_error_streak", "pause.max_error_streak", 1, 1e6, true)) {
      c.pause.max_error_streak = *v;
    }
    if (auto v = r.number(idx, "ms", "pause.ms", 0, kHuge, false)) c.pause.ms = *v;
    lua_settop(L, idx - 1);
  }
}

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

std::string field_error(const std::string& file, const std::string& source,
                        const std::string& field, const std::string& message) {
  // The leaf name of a dotted field ("retry.attempts" -> "attempts").
  std::string leaf = field.substr(field.rfind('.') == std::string::npos ? 0 : field.rfind('.') + 1);
  leaf = leaf.substr(0, leaf.find('['));
  int line = 1;
  if (!leaf.empty()) {
    const std::regex pattern("(^|[^A-Za-z0-9_])" + leaf + "\\s*=");
    std::smatch match;
    if (std::regex_search(source, match, pattern)) {
      line = 1 + static_cast<int>(std::count(source.begin(),
                                              source.begin() + match.position(0), '\n'));
    }
  }
  return file + ":" + std::to_string(line) + ": field '" + field + "' " + message;
}

LoadedCampaign::LoadedCampaign(Runtime& runtime, campaign::CampaignConfig config, int table_ref,
                               int run_ref, uint64_t version)
    : runtime_alive_(runtime.alive_token()),
      main_(runtime.main()),
      config_(std::move(config)),
      table_ref_(table_ref),
      run_ref_(run_ref),
      version_(version) {}

LoadedCampaign::~LoadedCampaign() {
  if (runtime_alive_.expired()) return;
  luaL_unref(main_, LUA_REGISTRYINDEX, table_ref_);
  luaL_unref(main_, LUA_REGISTRYINDEX, run_ref_);
}

void LoadedCampaign::push_table(lua_State* L) const { lua_rawgeti(L, LUA_REGISTRYINDEX, table_ref_); }
void LoadedCampaign::push_run(lua_State* L) const { lua_rawgeti(L, LUA_REGISTRYINDEX, run_ref_); }

namespace {

Result<std::vector<nlohmann::json>> read_items(Runtime& runtime, lua_State* task, int t,
                                               const std::string& file,
                                               const std::string& source, std::string* origin);

Result<CampaignConfig> read_config(Runtime& runtime, lua_State* task, const std::string& file,
                                   const std::string& source, bool load_items) {
  lua_State* L = task;
  const int t = lua_gettop(L);
  Reader r(L, file, source);
  CampaignConfig c;
  c.file = file;
  r.check_known(t, "", {"name", "items", "profiles", "home", "ladder", "retry", "supervisor",
                        "soft_restart", "health", "pause", "run"});
  c.name = r.string(t, "name", "name").value_or(fs::path(file).stem().string());
  c.home = r.string(t, "home", "home").value_or("");
  if (!r.failed()) {
    const int type = r.get(t, "ladder");
    if (type == LUA_TSTRING) {
      c.ladder = lua_tostring(L, -1);
    } else if (type == LUA_TTABLE) {
      c.ladder = "(table)";
    } else if (type != LUA_TNIL) {
      r.fail("ladder", "must be a ladder name or a ladder table");
    }
    lua_pop(L, 1);
  }
  read_profiles(r, L, t, c);
  read_retry(r, L, t, c.retry);
  read_limits(r, L, t, c);
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
  lua_settop(L, t);
  if (load_items) {
    auto items = read_items(runtime, task, t, file, source, &c.items_source);
    if (!items) return items.error();
    c.items = std::move(items.value());
  }
  return c;
}

Result<std::vector<nlohmann::json>> read_items(Runtime& runtime, lua_State* task, int t,
                                               const std::string& file,
                                               const std::string& source, std::string* origin) {
  lua_State* L = task;
  lua_pushliteral(L, "items");
  const int type = lua_rawget(L, t);
  std::vector<nlohmann::json> items;
  if (type == LUA_TSTRING) {
    const std::string name = lua_tostring(L, -1);
    lua_pop(L, 1);
    *origin = name;
    const fs::path path = fs::path(name).is_absolute() ? fs::path(name)
                                                       : fs::path(file).parent_path() / name;
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
        return Error{Kind::config, field_error(file, source, "items", "[" + std::to_string(i) +
                                                                          "]: " + item.error().message),
                     "", {}};
      }
      items.push_back(std::move(item.value()));
    }
    lua_pop(L, 1);
  } else {
    *origin = "iterator";
    // The iterator is script code: each call runs as a task of its own with
    // a slice budget, and may not wait on the browser.
    const int fn = lua_gettop(L);
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
      if (!*item) return Error{Kind::config, file + ": items iterator: " + item->error().message, "", {}};
      items.push_back(std::move(item->value()));
    }
    lua_pop(L, 1);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object()) {
      return Error{Kind::config, field_error(file, source, "items", "item " + std::to_string(i + 1) +
                                                                       " is not a table/object"),
                   "", {}};
    }
  }
  auto duplicates = campaign::duplicate_keys(items);
  if (!duplicates.empty()) {
    return Error{Kind::config, field_error(file, source, "items",
                                           "has duplicate keys (item.id), first: '" +
                                               duplicates.front() + "'"),
                 "", {}};
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
  lua_pushliteral(task, "run");
  lua_rawget(task, -2);
  const int run_ref = luaL_ref(task, LUA_REGISTRYINDEX);
  const int table_ref = luaL_ref(task, LUA_REGISTRYINDEX);
  runtime.state().end_task(task);
  return std::make_shared<LoadedCampaign>(runtime, std::move(config.value()), table_ref, run_ref,
                                          options.version);
}

}  // namespace belay::lua
