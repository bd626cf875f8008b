// belay's command line. Exit codes: 0 all items done; 1 some failed or a
// profile is fatal; 2 usage or config error.

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"belay: long browser campaigns over CDP, with recovery written in Lua"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "belay 0.1.0");

  // Caught here, not at the first launch: a bad endpoint is a usage error
  // (exit 2, nothing written), not a fatal profile.
  const CLI::Validator ws_url(
      [](std::string& url) {
        return url.rfind("ws://", 0) == 0
                   ? std::string()
                   : "must be a ws:// URL (ws://127.0.0.1:PORT/devtools/browser/ID), got '" + url +
                         "'";
      },
      "WS_URL");

  belay::cli::RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "run a campaign (items, profiles, recovery)");
  run_cmd->add_option("campaign", run.campaign, "the campaign script (CAMPAIGN.lua)")
      ->required()
      ->check(CLI::ExistingFile);
  run_cmd->add_option("--state", run.state_dir, "state directory (default ./.belay)");
  run_cmd->add_option("--connect", run.connect,
                      "attach to a browser someone else started (ws://127.0.0.1:PORT/devtools/"
                      "browser/ID) instead of launching one")
      ->check(ws_url);
  run_cmd->add_option("--chrome", run.chrome_path, "the browser to launch")
      ->check(CLI::ExistingFile);
  run_cmd->add_flag("--headful", run.headful, "show the browser window");
  run_cmd->add_option("--transport", run.transport, "pipe (default) or ws for launched browsers")
      ->check(CLI::IsMember({"pipe", "ws"}));
  run_cmd->add_flag("--no-reload", run.no_reload, "do not watch the scripts for changes");

  std::vector<std::string> check_files;
  auto* check_cmd = app.add_subcommand("check", "compile and validate scripts without a browser");
  check_cmd->add_option("files", check_files, "FILE.lua ...")->required();

  std::string status_state = ".belay";
  auto* status_cmd = app.add_subcommand("status", "show a campaign's state (read-only)");
  status_cmd->add_option("--state", status_state, "state directory (default ./.belay)");

  belay::cli::ReplArgs repl;
  auto* repl_cmd = app.add_subcommand("repl", "a Lua prompt with a browser of its own");
  repl_cmd->add_option("campaign", repl.campaign, "a campaign to load at the prompt")
      ->check(CLI::ExistingFile);
  repl_cmd->add_option("--state", repl.state_dir, "state directory (default ./.belay)");
  repl_cmd->add_option("--connect", repl.connect, "attach to a running browser (ws://...)")
      ->check(ws_url);
  repl_cmd->add_option("--chrome", repl.chrome_path, "the browser to launch")
      ->check(CLI::ExistingFile);
  repl_cmd->add_flag("--headful", repl.headful, "show the browser window");

  std::string attach_state = ".belay";
  auto* attach_cmd = app.add_subcommand("attach", "a Lua prompt inside a running `belay run`");
  attach_cmd->add_option("--state", attach_state, "the run's state directory (default ./.belay)");

  std::string cleanup_state = ".belay";
  bool emergency = false;
  auto* cleanup_cmd = app.add_subcommand(
      "cleanup", "end the browsers belay left behind for a state (orphans of a dead host)");
  cleanup_cmd->add_option("--state", cleanup_state, "state directory (default ./.belay)");
  cleanup_cmd->add_flag("--emergency", emergency,
                        "end every browser belay launched for the state, running host or not, "
                        "and put their running items back to pending");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors are exit 2, --help is 0
  }
  if (*run_cmd) return belay::cli::run_command(run);
  if (*check_cmd) return belay::cli::check_command(check_files);
  if (*status_cmd) return belay::cli::status_command(status_state);
  if (*cleanup_cmd) return belay::cli::cleanup_command(cleanup_state, emergency);
  if (*repl_cmd) return belay::cli::repl_command(repl);
  if (*attach_cmd) return belay::cli::attach_command(attach_state);
  return 2;
}
