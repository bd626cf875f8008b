#pragma once
#include "core/error.hpp"

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace CLI {
class App;
class Validator;
}  // namespace CLI
namespace belay::campaign {
class Runner;
}
namespace belay::control {
class ControlServer;
}

namespace belay::cli {

// How long the operator's pause lasts when it names no time: attach's
// pause(p) and `belay pause p` alike.
inline constexpr uint64_t kDefaultPauseMs = 24ull * 3600 * 1000;

// A subcommand on the command line and what runs it once the line is parsed.
// Each command's file adds its own (one file per command); main() only
// parses and dispatches.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};
Command add_run_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_status_command(CLI::App& app);
Command add_repl_command(CLI::App& app);
Command add_attach_command(CLI::App& app);
Command add_cleanup_command(CLI::App& app);
Command add_pause_command(CLI::App& app);
Command add_resume_command(CLI::App& app);
Command add_results_command(CLI::App& app);
// For --connect: caught at parse time, so a bad endpoint is a usage error
// (exit 2, nothing written), not a fatal profile.
CLI::Validator ws_url_validator();

struct RunArgs {
  std::string campaign;
  std::string state_dir = ".belay";
  std::string connect;
  std::string chrome_path = "/usr/bin/chromium";
  std::string transport = "pipe";
  bool headful = false;
  bool no_reload = false;
};

struct ReplArgs {
  std::string campaign;  // optional
  std::string state_dir = ".belay";
  std::string connect;
  std::string chrome_path = "/usr/bin/chromium";
  bool headful = false;
};

int run_command(const RunArgs& args);
int repl_command(const ReplArgs& args);
int attach_command(const std::string& state_dir);

// belay attach's host half: serves STATE/control.sock for this run. `reload`
// reloads the campaign as the file watcher does (the console's reload()).
using ConsoleReload = std::function<Result<nlohmann::json>()>;
std::unique_ptr<control::ControlServer> serve_console(uv_loop_t* loop, campaign::Runner& runner,
                                                      const RunArgs& args, ConsoleReload reload);
int check_command(const std::vector<std::string>& files);
int status_command(const std::string& state_dir);
int cleanup_command(const std::string& state_dir, bool emergency);

}  // namespace belay::cli
