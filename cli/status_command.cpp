// `belay status [--state DIR]`: the campaign and its profiles, read from the
// state without writing to it (a running `belay run` may own it).

#include <cstdio>

#include "commands.hpp"

#include <CLI/CLI.hpp>
#include "store/status_report.hpp"
#include "store/store.hpp"

namespace belay::cli {

int status_command(const std::string& state_dir) {
  auto store = store::open_sqlite_store(state_dir, store::OpenOptions{/*read_only=*/true});
  if (!store) {
    std::fprintf(stderr, "belay: %s\n", store.error().message.c_str());
    return 2;
  }
  auto report = store::format_status(*store.value());
  if (!report) {
    std::fprintf(stderr, "belay: %s\n", report.error().message.c_str());
    return 2;
  }
  std::fputs(report.value().c_str(), stdout);
  return 0;
}

Command add_status_command(CLI::App& app) {
  auto state = std::make_shared<std::string>(".belay");
  CLI::App* cmd = app.add_subcommand("status", "show a campaign's state (read-only)");
  cmd->add_option("--state", *state, "state directory (default ./.belay)");
  return {cmd, [state] { return status_command(*state); }};
}

}  // namespace belay::cli
