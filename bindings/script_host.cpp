#include "script_host.hpp"

#include "belay.hpp"
#include "campaign.hpp"
#include "error.hpp"
#include "handles.hpp"
#include "lua_executor.hpp"
#include "require.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace belay::lua {
namespace {

namespace fs = std::filesystem;

class LuaScriptHost final : public ScriptHost {
 public:
  LuaScriptHost(uv_loop_t* loop, ScriptHostOptions options) : runtime_(loop) {
    runtime_.hooks().screenshots_dir = options.screenshots_dir;
    runtime_.hooks().log = std::move(options.log);
    runtime_.hooks().event = std::move(options.event);
    register_page(runtime_.main());
    register_browser(runtime_.main());
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
    auto loaded = load_campaign(runtime_, path, LoadOptions{true, 1});
    if (!loaded) return loaded.error();
    executor_ = std::make_unique<LuaExecutor>(runtime_, loaded.value());
    return loaded.value()->config();
  }

  Result<uint64_t> reload() override {
    const uint64_t version = executor_->campaign()->version() + 1;
    clear_module_cache(runtime_.main());
    auto loaded = load_campaign(runtime_, path_, LoadOptions{true, version});
    if (!loaded) return loaded.error();
    executor_->use(loaded.value());
    return version;
  }

  campaign::ItemExecutor& executor() override { return *executor_; }
  void cancel_all(const Error& why) override { runtime_.cancel_all(why); }

 private:
  Runtime runtime_;
  std::string path_;
  std::unique_ptr<LuaExecutor> executor_;
};

// A ladder table: name, backoff_ms, steps = { {name=, run=function}, … }.
std::optional<std::string> check_ladder(lua_State* L, int t) {
  lua_getfield(L, t, "steps");
  if (!lua_istable(L, -1)) return std::string("field 'steps' must be a list of steps");
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "run");
    const bool ok = lua_isfunction(L, -1);
    lua_pop(L, 2);
    if (!ok) return "field 'steps[" + std::to_string(i) + "].run' must be a function(page, ctx)";
  }
  lua_pop(L, 1);
  return std::nullopt;
}

}  // namespace

std::unique_ptr<ScriptHost> ScriptHost::create(uv_loop_t* loop, ScriptHostOptions options) {
  return std::make_unique<LuaScriptHost>(loop, std::move(options));
}

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
      report = [&]() -> Result<CheckReport> {
        std::ifstream in(path, std::ios::binary);
        if (!in) return Error{Kind::config, path + ": cannot read the file", "", {}};
        std::stringstream buffer;
        buffer << in.rdbuf();
        lua_State* task = runtime.new_task();
        const std::string chunkname = "@" + path;
        ResumeResult res = runtime.state().run_top_level(task, buffer.str(), chunkname.c_str());
        if (res.status != ResumeStatus::finished) {
          Error e = res.status == ResumeStatus::error
                        ? to_error(task, -1)
                        : Error{Kind::config, path + ": the top level must not wait", "", {}};
          runtime.state().end_task(task);
          return e;
        }
        const bool is_table = res.nresults >= 1 && lua_istable(task, -res.nresults);
        bool campaign = false;
        bool ladder = false;
        if (is_table) {
          // A table with `run` or `items` is meant as a campaign: validate it
          // as one, so a missing or ill-typed run is reported, not passed as
          // a "module".
          lua_getfield(task, -res.nresults, "run");
          campaign = !lua_isnil(task, -1);
          lua_getfield(task, -res.nresults - 1, "items");
          campaign = campaign || !lua_isnil(task, -1);
          lua_getfield(task, -res.nresults - 2, "steps");
          ladder = !lua_isnil(task, -1);
          lua_pop(task, 3);
        }
        std::optional<std::string> ladder_problem;
        if (ladder) ladder_problem = check_ladder(task, lua_gettop(task) - res.nresults + 1);
        runtime.state().end_task(task);
        if (ladder_problem) return Error{Kind::config, path + ":1: " + *ladder_problem, "", {}};
        if (ladder) return CheckReport{"ladder", "ladder"};
        if (!campaign) return CheckReport{"module", "module"};
        auto loaded = load_campaign(runtime, path);
        if (!loaded) return loaded.error();
        const auto& c = loaded.value()->config();
        return CheckReport{"campaign", "campaign '" + c.name + "', " +
                                           std::to_string(c.items.size()) + " items, " +
                                           std::to_string(c.profiles.size()) + " profile(s)"};
      }();
    }
  }
  while (uv_run(&loop, UV_RUN_NOWAIT) != 0) {
  }
  uv_loop_close(&loop);
  return report;
}

}  // namespace belay::lua
