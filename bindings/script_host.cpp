#include "script_host.hpp"

#include "api/belay.hpp"
#include "api/ctx.hpp"
#include "api/handles.hpp"
#include "api/page_events.hpp"
#include "api/page_routes.hpp"
#include "api/require.hpp"
#include "config/campaign.hpp"
#include "config/ladder.hpp"
#include "lua_executor.hpp"
#include "lua_supervisor_policy.hpp"
#include "vm/error_value.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace belay::lua {
namespace {

namespace fs = std::filesystem;

// Requires a bundled module and keeps what it returned in the registry.
Result<int> require_bundled(lua_State* L, const char* name) {
  lua_pushcfunction(L, l_require);
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    Error e = to_error(L, -1);
    lua_pop(L, 1);
    return e;
  }
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

class LuaScriptHost final : public ScriptHost {
 public:
  LuaScriptHost(uv_loop_t* loop, ScriptHostOptions options) : runtime_(loop) {
    runtime_.hooks().state_dir = fs::absolute(options.state_dir).lexically_normal().string();
    runtime_.hooks().log = std::move(options.log);
    runtime_.hooks().event = std::move(options.event);
    register_page(runtime_.main());
    register_browser(runtime_.main());
    register_ctx(runtime_.main());
  }

  Result<campaign::CampaignConfig> load(const std::string& path) override {
    path_ = path;
    const std::string dir = fs::path(path).parent_path().empty()
                                ? std::string(".")
                                : fs::path(path).parent_path().string();
    if (!install_belay(runtime_, {dir, bundled_scripts_dir()})) {
      Error e = to_error(runtime_.main(), -1);
      lua_pop(runtime_.main(), 1);
      return e;
    }
    // The item driver and the supervisor's default policy are bundled code:
    // loaded once, kept across reloads (a campaign's own policy functions
    // are reloaded with the campaign).
    lua_State* L = runtime_.main();
    auto driver_ref = require_bundled(L, "belay.attempt");
    if (!driver_ref) return driver_ref.error();
    auto policy_ref = require_bundled(L, "belay.supervisor");
    if (!policy_ref) return policy_ref.error();
    // The bundled libraries read so far are loaded once and never reloaded:
    // watching them would log reloads that change nothing.
    take_required_files(L);
    auto loaded = load_campaign(runtime_, path, LoadOptions{true, 1});
    files_.clear();
    add_files(loaded ? loaded.value()->config().ladder_files : std::vector<std::string>{});
    if (!loaded) return loaded.error();
    use_campaign_settings(loaded.value()->config());
    executor_ = std::make_unique<LuaExecutor>(runtime_, loaded.value(), driver_ref.value());
    policy_ = std::make_unique<LuaSupervisorPolicy>(runtime_, policy_ref.value(),
                                                    [this]() { return executor_->campaign(); });
    return loaded.value()->config();
  }

  Result<uint64_t> reload() override {
    const uint64_t version = executor_->campaign()->version() + 1;
    clear_module_cache(runtime_.main());
    auto loaded = load_campaign(runtime_, path_, LoadOptions{true, version});
    // A failed reload keeps the old version, so its files stay watched too.
    if (loaded) files_.clear();
    add_files(loaded ? loaded.value()->config().ladder_files : std::vector<std::string>{});
    if (!loaded) return loaded.error();
    use_campaign_settings(loaded.value()->config());
    executor_->use(loaded.value());
    // Handlers and routes of the old version go with it: none is called
    // again (their pages' requests go on unpaused).
    end_all_subscriptions(runtime_);
    end_all_routes(runtime_);
    return version;
  }

  std::vector<std::string> loaded_files() const override { return files_; }

  campaign::ItemExecutor& executor() override { return *executor_; }
  campaign::SupervisorPolicy& policy() override { return *policy_; }
  void cancel_all(const Error& why) override { runtime_.cancel_all(why); }

 private:
  // Calls without opts.timeout take the loaded version's `timeouts`; files
  // come from its folder and its `files` folders.
  void use_campaign_settings(const campaign::CampaignConfig& config) {
    const campaign::TimeoutsConfig& timeouts = config.timeouts;
    std::error_code ec;
    const fs::path dir = fs::absolute(fs::path(path_).parent_path(), ec).lexically_normal();
    runtime_.hooks().campaign_dir = dir.string();
    runtime_.hooks().file_dirs.clear();
    for (const auto& folder : config.files) {
      runtime_.hooks().file_dirs.push_back(
          (fs::path(folder).is_absolute() ? fs::path(folder) : dir / folder)
              .lexically_normal()
              .string());
    }
    runtime_.hooks().action_timeout_ms = timeouts.action_ms;
    runtime_.hooks().navigation_timeout_ms = timeouts.navigation_ms;
    runtime_.hooks().call_timeout_ms = timeouts.call_ms;
  }

  // Adds the campaign, `ladders` and the modules required since the last
  // call to files_, absolute and each once.
  void add_files(const std::vector<std::string>& ladders) {
    std::vector<std::string> read = {path_};
    read.insert(read.end(), ladders.begin(), ladders.end());
    for (auto& module : take_required_files(runtime_.main())) read.push_back(std::move(module));
    for (const auto& file : read) {
      std::error_code ec;
      std::string absolute = fs::absolute(file, ec).lexically_normal().string();
      if (std::find(files_.begin(), files_.end(), absolute) == files_.end()) {
        files_.push_back(std::move(absolute));
      }
    }
  }

  Runtime runtime_;
  std::string path_;
  std::unique_ptr<LuaExecutor> executor_;
  std::unique_ptr<LuaSupervisorPolicy> policy_;
  std::vector<std::string> files_;
};

}  // namespace

std::unique_ptr<ScriptHost> ScriptHost::create(uv_loop_t* loop, ScriptHostOptions options) {
  return std::make_unique<LuaScriptHost>(loop, std::move(options));
}

namespace {

// The script's text; a directory opens and reads as empty, so it would pass
// as a module without this check.
Result<std::string> read_script(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return Error{Kind::config, path + ": a directory, not a script", "", {}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Kind::config, path + ": cannot read the file", "", {}};
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

enum class ScriptShape { module, campaign, ladder };

// A table with `run` or `items` is meant as a campaign: validated as one, so
// a missing or ill-typed run is reported, not passed as a "module". One with
// `steps` is a ladder.
ScriptShape shape_of(lua_State* task, int nresults) {
  if (nresults < 1 || !lua_istable(task, -nresults)) return ScriptShape::module;
  lua_getfield(task, -nresults, "run");
  bool campaign = !lua_isnil(task, -1);
  lua_getfield(task, -nresults - 1, "items");
  campaign = campaign || !lua_isnil(task, -1);
  lua_getfield(task, -nresults - 2, "steps");
  const bool ladder = !lua_isnil(task, -1);
  lua_pop(task, 3);
  if (ladder) return ScriptShape::ladder;
  return campaign ? ScriptShape::campaign : ScriptShape::module;
}

Result<CheckReport> check_script(Runtime& runtime, const std::string& path) {
  auto source = read_script(path);
  if (!source) return source.error();
  lua_State* task = runtime.new_task();
  const std::string chunkname = "@" + path;
  ResumeResult res = runtime.state().run_top_level(task, source.value(), chunkname.c_str());
  if (res.status != ResumeStatus::finished) {
    Error e = res.status == ResumeStatus::error
                  ? to_error(task, -1)
                  : Error{Kind::config, path + ": the top level must not wait", "", {}};
    runtime.state().end_task(task);
    return e;
  }
  const ScriptShape shape = shape_of(task, res.nresults);
  std::optional<Error> ladder_problem;
  if (shape == ScriptShape::ladder) {
    ladder_problem =
        check_ladder(runtime, task, lua_gettop(task) - res.nresults + 1, path, source.value());
  }
  runtime.state().end_task(task);
  if (ladder_problem) return *ladder_problem;
  if (shape == ScriptShape::ladder) return CheckReport{"ladder", "ladder"};
  if (shape == ScriptShape::module) return CheckReport{"module", "module"};
  auto loaded = load_campaign(runtime, path);
  if (!loaded) return loaded.error();
  const auto& c = loaded.value()->config();
  return CheckReport{"campaign", "campaign '" + c.name + "', " + std::to_string(c.items.size()) +
                                     " items, " + std::to_string(c.profiles.size()) +
                                     " profile(s)"};
}

}  // namespace

Result<CheckReport> check_file(const std::string& path) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  Result<CheckReport> report = Error{Kind::config, "unchecked", "", {}};
  {
    Runtime runtime(&loop);
    register_page(runtime.main());
    register_browser(runtime.main());
    const std::string dir = fs::path(path).parent_path().empty()
                                ? std::string(".")
                                : fs::path(path).parent_path().string();
    if (!install_belay(runtime, {dir, bundled_scripts_dir()})) {
      report = to_error(runtime.main(), -1);
    } else {
      report = check_script(runtime, path);
    }
  }
  while (uv_run(&loop, UV_RUN_NOWAIT) != 0) {
  }
  uv_loop_close(&loop);
  return report;
}

}  // namespace belay::lua
