// belay cleanup [--state DIR] [--emergency]: ends the browsers belay left
// behind for a state directory. Without --emergency only orphans (their
// host is gone); with it every browser belay launched for that state, and
// their running items go back to pending.

#include "campaign/state_cleanup.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

namespace belay::cli {

int cleanup_command(const std::string& state_dir, bool emergency) {
  if (!std::filesystem::is_directory(state_dir)) {
    std::fprintf(stderr, "belay: no state directory at %s\n", state_dir.c_str());
    return 2;
  }
  campaign::EventLog events(state_dir + "/events.jsonl", "");
  if (!events.ok()) {
    std::fprintf(stderr, "belay: %s\n", events.error().c_str());
    return 2;
  }
  const campaign::CleanupReport report = campaign::clean_state(state_dir, emergency);
  campaign::log_cleanup(events, report, emergency, true);
  if (report.killed.empty() && report.requeued == 0) {
    std::printf("nothing to clean in %s: no %sbrowser processes\n", state_dir.c_str(),
                emergency ? "" : "orphaned ");
  } else {
    std::fputs(campaign::describe(report).c_str(), stdout);
  }
  return report.survived.empty() ? 0 : 1;
}

Command add_cleanup_command(CLI::App& app) {
  auto state = std::make_shared<std::string>(".belay");
  auto emergency = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "cleanup", "end the browsers belay left behind for a state (orphans of a dead host)");
  cmd->add_option("--state", *state, "state directory (default ./.belay)");
  cmd->add_flag("--emergency", *emergency,
                "end every browser belay launched for the state, running host or not, "
                "and put their running items back to pending");
  return {cmd, [state, emergency] { return cleanup_command(*state, *emergency); }};
}

}  // namespace belay::cli
