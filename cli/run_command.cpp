// belay run: open the state, load the campaign, run it to the end with hot
// reload, the console and the shutdown signals around it.

#include "campaign/runner.hpp"
#include "chrome/child_reaper.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>
#include "control/control_server.hpp"
#include "core/loop_end.hpp"
#include "hot_reload.hpp"
#include "progress_display.hpp"
#include "run_state.hpp"
#include "script_host.hpp"
#include "shutdown_signals.hpp"

#include <cstdio>
#include <memory>

namespace belay::cli {
namespace {

// Script output and the run's events both go to the progress display.
lua::ScriptHostOptions script_options(const RunArgs& args, ProgressDisplay& display,
                                      campaign::EventLog& events) {
  lua::ScriptHostOptions options;
  options.state_dir = args.state_dir;
  options.log = [&display](std::string_view level, std::string_view message) {
    display.print("[" + std::string(level) + "] " + std::string(message));
  };
  options.event = [&events](const std::string& name, const nlohmann::json& params) {
    events.write(campaign::Event{name, "", "", "", params, "", {}});
  };
  events.on_event([&display](const nlohmann::json& e) {
    if (e.value("event", "") == "run_start" && e["params"].is_object()) {
      const auto& p = e["params"];
      display.progress().begin(p.value("items", int64_t{0}), p.value("done_before", int64_t{0}), 0);
    }
    display.observe(e);
  });
  return options;
}

campaign::RunOptions run_options(const RunArgs& args) {
  campaign::RunOptions options;
  options.state_dir = args.state_dir;
  options.chrome_path = args.chrome_path;
  options.headless = !args.headful;
  options.connect = args.connect;
  options.transport =
      args.transport == "ws" ? chrome::TransportKind::websocket : chrome::TransportKind::pipe;
  return options;
}

// Runs the loaded campaign until its runner finishes (or fails to start);
// returns the exit code.
int drive(uv_loop_t* loop, const RunArgs& args, campaign::Runner& runner, lua::ScriptHost& host,
          campaign::EventLog& events, ProgressDisplay& display) {
  HotReload hot_reload(loop, host, events, args.campaign);
  if (!args.no_reload) hot_reload.watch();
  ShutdownSignals signals(loop, runner, host);
  // belay attach: a console inside this run, on STATE/control.sock.
  auto console = serve_console(loop, runner, args, [&]() { return hot_reload.reload(); });
  int exit_code = 2;
  bool finished = false;
  // The one way a run ends: what watches or waits on the loop lets go of it.
  auto finish = [&](int code) {
    exit_code = code;
    finished = true;
    hot_reload.stop();
    display.stop();
    signals.close();
  };
  if (auto error = runner.start(finish)) {
    std::fprintf(stderr, "belay: %s\n", error->message.c_str());
    finish(2);
  }
  while (!finished && uv_run(loop, UV_RUN_ONCE) != 0) {
  }
  console.reset();  // attached consoles end with the run
  uv_run(loop, UV_RUN_NOWAIT);
  return exit_code;
}

int run_campaign(uv_loop_t* loop, const RunArgs& args, RunState& state, ProgressDisplay& display) {
  auto host = lua::ScriptHost::create(loop, script_options(args, display, *state.events));
  auto config = host->load(args.campaign);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 2;
  }
  state.events->set_campaign(config.value().name);
  auto runner =
      campaign::make_durable_runner(loop, config.value(), host->executor(), host->policy(),
                                    *state.events, *state.store, run_options(args));
  return drive(loop, args, *runner, *host, *state.events, display);
}

}  // namespace

int run_command(const RunArgs& args) {
  auto state = open_run_state(args.state_dir);
  if (!state) {
    std::fprintf(stderr, "belay: %s\n", state.error().message.c_str());
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 2;
  {
    // Both close their handles before the loop is drained.
    chrome::ChildReaper reaper(&loop);
    ProgressDisplay display(&loop);
    exit_code = run_campaign(&loop, args, state.value(), display);
  }
  end_loop(&loop, "belay run");
  return exit_code;
}

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "run a campaign (items, profiles, recovery)");
  cmd->add_option("campaign", args->campaign, "the campaign script (CAMPAIGN.lua)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--state", args->state_dir, "state directory (default ./.belay)");
  cmd->add_option("--connect", args->connect,
                  "attach to a browser someone else started (ws://127.0.0.1:PORT/devtools/"
                  "browser/ID) instead of launching one")
      ->check(ws_url_validator());
  cmd->add_option("--chrome", args->chrome_path, "the browser to launch")->check(CLI::ExistingFile);
  cmd->add_flag("--headful", args->headful, "show the browser window");
  cmd->add_option("--transport", args->transport, "pipe (default) or ws for launched browsers")
      ->check(CLI::IsMember({"pipe", "ws"}));
  cmd->add_flag("--no-reload", args->no_reload, "do not watch the scripts for changes");
  return {cmd, [args] { return run_command(*args); }};
}

}  // namespace belay::cli
