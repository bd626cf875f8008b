// Campaign table validation, as `belay check` does it (bindings/
// script_host.cpp check_file): the input is a Lua script, written beside
// nothing as campaign.lua in a scratch directory, run in a fresh sandboxed
// runtime with small quotas; the table it returns is checked as a ladder
// (has `steps`) or a campaign (has `run` or `items`). Checks that every
// failure is a config/script/sandbox error and that an accepted campaign's
// settings are sane (finite numbers in range, named unique profiles, items
// that are objects). Items are read only from a Lua array: a file name
// could name /dev/zero, an iterator could run forever.
//
// Input: Lua source text.

#include "api/belay.hpp"
#include "api/handles.hpp"
#include "config/campaign.hpp"
#include "config/ladder.hpp"
#include "fuzz_targets.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace belay::fuzz {
namespace {

namespace fs = std::filesystem;

// One scratch directory per process, removed at exit.
const std::string& scratch_dir() {
  static const struct Dir {
    std::string path;
    Dir() {
      char name[] = "/tmp/belay-fuzz-campaign-XXXXXX";
      FUZZ_CHECK(mkdtemp(name) != nullptr);
      path = name;
    }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

void check_failure(const Error& e) {
  FUZZ_CHECK_MSG(e.kind == Kind::config || e.kind == Kind::script || e.kind == Kind::sandbox,
                 e.to_string());
  FUZZ_CHECK(!e.message.empty());
}

bool finite_in(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

void check_config(const campaign::CampaignConfig& c) {
  FUZZ_CHECK(!c.profiles.empty());
  std::set<std::string> names;
  for (const auto& p : c.profiles) {
    FUZZ_CHECK_MSG(!p.name.empty() && names.insert(p.name).second, p.name);
    FUZZ_CHECK(p.connect.empty() || p.connect.rfind("ws://", 0) == 0);
  }
  const auto& r = c.retry;
  FUZZ_CHECK(r.attempts >= 1 && r.attempts <= 1000);
  FUZZ_CHECK(finite_in(r.base_ms, 0, 1e15) && finite_in(r.max_ms, 0, 1e15));
  FUZZ_CHECK(finite_in(r.factor, 1, 100) && finite_in(r.jitter, 0, 1));
  for (const auto& kind : r.kinds) FUZZ_CHECK_MSG(kind_from_name(kind).has_value(), kind);
  FUZZ_CHECK(c.supervisor.max_restarts >= 0 && c.pause.max_error_streak >= 0);
  FUZZ_CHECK(!c.ladder.empty());
  for (const auto& item : c.items) FUZZ_CHECK(item.is_object());
}

// True when the campaign's `items` is a Lua table.
bool items_is_array(lua::Runtime& runtime, const lua::LoadedCampaign& loaded) {
  lua_State* L = runtime.main();
  loaded.push_table(L);
  lua_pushliteral(L, "items");
  const bool array = lua_rawget(L, -2) == LUA_TTABLE;
  lua_pop(L, 2);
  return array;
}

void check_campaign(lua::Runtime& runtime, const std::string& path) {
  auto loaded = lua::load_campaign(runtime, path, lua::LoadOptions{false, 1});
  if (!loaded) {
    check_failure(loaded.error());
    return;
  }
  check_config(loaded.value()->config());
  if (!items_is_array(runtime, *loaded.value())) return;
  loaded = lua::load_campaign(runtime, path, lua::LoadOptions{true, 2});
  if (!loaded) {
    check_failure(loaded.error());
    return;
  }
  check_config(loaded.value()->config());
}

// check_file's steps, on a runtime with small quotas.
void check_script(lua::Runtime& runtime, const std::string& path, const std::string& source) {
  lua_State* task = runtime.new_task();
  FUZZ_CHECK(task != nullptr);
  const std::string chunkname = "@" + path;
  lua::ResumeResult res = runtime.state().run_top_level(task, source, chunkname.c_str());
  if (res.status != lua::ResumeStatus::finished) {
    if (res.status == lua::ResumeStatus::error) check_failure(lua::to_error(task, -1));
    runtime.state().end_task(task);
    return;
  }
  const int top = lua_gettop(task) - res.nresults + 1;
  bool campaign = false;
  bool ladder = false;
  if (res.nresults >= 1 && lua_istable(task, top)) {
    for (const char* field : {"run", "items", "steps"}) {
      lua_pushstring(task, field);
      const bool present = lua_rawget(task, top) != LUA_TNIL;
      lua_pop(task, 1);
      (field[0] == 's' ? ladder : campaign) |= present;
    }
  }
  if (ladder) {
    if (auto problem = lua::check_ladder(runtime, task, top, path, source)) check_failure(*problem);
  }
  runtime.state().end_task(task);
  if (campaign && !ladder) check_campaign(runtime, path);
}

}  // namespace

int fuzz_campaign_table(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  const std::string path = scratch_dir() + "/campaign.lua";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << source;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    lua::Limits limits;
    limits.memory_bytes = 64u << 20;
    limits.top_level_instructions = 1'000'000;
    limits.slice_instructions = 1'000'000;
    lua::Runtime runtime(&loop, limits);
    runtime.hooks().log = [](std::string_view, std::string_view) {};
    lua::register_page(runtime.main());
    lua::register_browser(runtime.main());
    FUZZ_CHECK(lua::install_belay(runtime, {scratch_dir(), lua::bundled_scripts_dir()}));
    check_script(runtime, path, source);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  return 0;
}

}  // namespace belay::fuzz
