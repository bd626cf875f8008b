#include "config/ladder.hpp"

#include "config/policy_fields.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace belay::lua {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxFromDepth = 8;

bool valid_ladder_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-') return false;
  }
  return true;
}

// Checks the ladder table at `t` field by field; `p` prefixes field names
// ("ladder." for a ladder written inside the campaign).
void check_fields(Reader& r, lua_State* L, int t, const std::string& p) {
  r.check_known(t, p,
                {"name", "from", "backoff_ms", "steps", "around", "on_exhausted", "unfixable",
                 "options", "retry", "supervisor", "soft_restart", "health", "pause"});
  r.string(t, "name", p + "name");
  r.string(t, "from", p + "from");
  r.number(t, "backoff_ms", p + "backoff_ms", 0, 1e12, false);
  if (!r.failed() && r.table(t, "options", p + "options")) lua_pop(L, 1);
  for (const char* hook : {"around", "on_exhausted", "unfixable"}) {
    if (r.failed()) return;
    const int type = r.get(t, hook);
    if (type != LUA_TNIL && type != LUA_TFUNCTION) r.fail(p + hook, "must be a function");
    lua_pop(L, 1);
  }
  if (r.failed()) return;
  if (!r.table(t, "steps", p + "steps")) return;
  const int steps = lua_gettop(L);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, steps));
  for (lua_Integer i = 1; i <= n && !r.failed(); ++i) {
    const std::string field = p + "steps[" + std::to_string(i) + "]";
    if (lua_rawgeti(L, steps, i) != LUA_TTABLE) {
      r.fail(field, "must be a table { name = ..., run = function(page, ctx) ... end }");
    } else {
      const int step = lua_gettop(L);
      r.check_known(step, field + ".", {"name", "run"});
      r.string(step, "name", field + ".name");
      if (!r.failed() && r.get(step, "run") != LUA_TFUNCTION) {
        r.fail(field + ".run", "must be a function(page, ctx)");
      }
      lua_settop(L, step);
    }
    lua_settop(L, steps);
  }
  lua_settop(L, steps - 1);
}

std::optional<std::string> find_ladder_file(const std::string& name, const std::string& dir) {
  for (const fs::path& candidate :
       {fs::path(dir) / (name + ".lua"), fs::path(dir) / "recovery-ladders" / (name + ".lua"),
        fs::path(bundled_ladders_dir()) / (name + ".lua")}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  }
  return std::nullopt;
}

class LadderLoader {
 public:
  LadderLoader(Runtime& runtime, lua_State* L, Reader& campaign_reader, campaign::CampaignConfig& c)
      : runtime_(runtime),
        L_(L),
        campaign_reader_(campaign_reader),
        c_(c),
        dir_(fs::path(c.file).parent_path().empty() ? "."
                                                    : fs::path(c.file).parent_path().string()) {}

  // Pushes the ladder named `name`; `field` is where the name was written.
  bool push_named(const std::string& name, const std::string& field, int depth) {
    if (depth > kMaxFromDepth) {
      campaign_reader_.fail(field, "ladders inherit ('from') more than " +
                                       std::to_string(kMaxFromDepth) + " levels deep (a cycle?)");
      return false;
    }
    if (!valid_ladder_name(name)) {
      campaign_reader_.fail(field,
                            "'" + name + "' is not a ladder name (letters, digits, _ and -)");
      return false;
    }
    auto file = find_ladder_file(name, dir_);
    if (!file) {
      campaign_reader_.fail(field, "names ladder '" + name +
                                       "', which is neither beside the "
                                       "campaign nor in " +
                                       bundled_ladders_dir());
      return false;
    }
    std::ifstream in(*file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string source = buffer.str();
    lua_State* task = runtime_.new_task();
    const std::string chunkname = "@" + *file;
    ResumeResult res = runtime_.state().run_top_level(task, source, chunkname.c_str());
    if (res.status != ResumeStatus::finished || res.nresults < 1 ||
        !lua_istable(task, -res.nresults)) {
      Error e = res.status == ResumeStatus::error
                    ? to_error(task, -1)
                    : Error{Kind::config, *file + ":1: a ladder file must return a table", "", {}};
      if (e.kind == Kind::script) e.kind = Kind::config;
      runtime_.state().end_task(task);
      campaign_reader_.fail_with(std::move(e));
      return false;
    }
    lua_settop(task, lua_gettop(task) - res.nresults + 1);
    lua_xmove(task, L_, 1);
    runtime_.state().end_task(task);
    c_.ladder_files.push_back(*file);
    Reader reader(L_, *file, source);
    if (!push_resolved(reader, "", depth)) {
      if (reader.failed()) campaign_reader_.fail_with(reader.take_error());
      return false;
    }
    if (c_.ladder.empty()) c_.ladder = name;
    return true;
  }

  // The ladder table on top of L, read with `r`, replaced by its resolved
  // form (its `from` base with its own fields laid over).
  bool push_resolved(Reader& r, const std::string& p, int depth) {
    const int t = lua_gettop(L_);
    check_fields(r, L_, t, p);
    if (r.failed()) {
      lua_settop(L_, t - 1);
      return false;
    }
    lua_getfield(L_, t, "from");
    const bool inherits = lua_isstring(L_, -1) != 0;
    const std::string from = inherits ? lua_tostring(L_, -1) : "";
    lua_pop(L_, 1);
    if (!inherits) {
      read_policy_fields(r, L_, t, p, c_);
      if (r.failed()) lua_settop(L_, t - 1);
      return !r.failed();
    }
    // The base first, so that this ladder's policy fields override its.
    const std::string ladder_name = c_.ladder;
    if (!push_named(from, p + "from", depth + 1)) {
      lua_settop(L_, t - 1);
      return false;
    }
    c_.ladder = ladder_name;
    read_policy_fields(r, L_, t, p, c_);
    if (r.failed()) {
      lua_settop(L_, t - 1);
      return false;
    }
    const int base = lua_gettop(L_);
    lua_createtable(L_, 0, 8);
    const int merged = lua_gettop(L_);
    for (int source : {base, t}) {
      lua_pushnil(L_);
      while (lua_next(L_, source) != 0) {
        lua_pushvalue(L_, -2);
        lua_insert(L_, -2);
        lua_rawset(L_, merged);
      }
    }
    lua_pushnil(L_);
    lua_setfield(L_, merged, "from");
    lua_replace(L_, t);
    lua_settop(L_, t);
    return true;
  }

 private:
  Runtime& runtime_;
  lua_State* L_;
  Reader& campaign_reader_;
  campaign::CampaignConfig& c_;
  std::string dir_;
};

}  // namespace

std::string bundled_ladders_dir() {
  const char* env = std::getenv("BELAY_LADDERS_DIR");
  return env != nullptr && *env != '\0' ? env : BELAY_LADDERS_DIR;
}

bool push_ladder(Runtime& runtime, lua_State* L, int t, Reader& r, campaign::CampaignConfig& c) {
  if (r.failed()) return false;
  LadderLoader loader(runtime, L, r, c);
  c.ladder.clear();
  c.ladder_files.clear();
  const int type = r.get(t, "ladder");
  bool ok = false;
  if (type == LUA_TNIL || type == LUA_TSTRING) {
    const std::string name = type == LUA_TNIL ? "standard" : lua_tostring(L, -1);
    lua_pop(L, 1);
    ok = loader.push_named(name, "ladder", 0);
  } else if (type == LUA_TTABLE) {
    ok = loader.push_resolved(r, "ladder.", 0);
  } else {
    lua_pop(L, 1);
    r.fail("ladder", "must be a ladder name or a ladder table");
  }
  if (!ok) return false;
  const int ladder = lua_gettop(L);
  if (c.ladder.empty()) {
    lua_getfield(L, ladder, "name");
    c.ladder = lua_isstring(L, -1) ? lua_tostring(L, -1) : "(inline)";
    lua_pop(L, 1);
  }
  lua_getfield(L, ladder, "backoff_ms");
  c.ladder_backoff_ms = lua_isnumber(L, -1) ? static_cast<uint64_t>(lua_tonumber(L, -1)) : 0;
  lua_pop(L, 1);
  lua_getfield(L, ladder, "steps");
  c.ladder_steps.clear();
  const lua_Integer n = lua_istable(L, -1) ? static_cast<lua_Integer>(lua_rawlen(L, -1)) : 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "name");
    c.ladder_steps.push_back(lua_isstring(L, -1) ? lua_tostring(L, -1)
                                                 : "step " + std::to_string(i));
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return true;
}

std::optional<Error> check_ladder(Runtime& runtime, lua_State* L, int idx, const std::string& file,
                                  const std::string& source) {
  campaign::CampaignConfig c;
  c.file = file;
  Reader r(L, file, source);
  LadderLoader loader(runtime, L, r, c);
  lua_pushvalue(L, idx);
  if (!loader.push_resolved(r, "", 0)) {
    if (r.failed()) return r.take_error();
    return Error{Kind::config, file + ":1: not a valid ladder", "", {}};
  }
  lua_pop(L, 1);
  return std::nullopt;
}

}  // namespace belay::lua
