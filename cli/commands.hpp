#pragma once
#include "core/error.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace belay::campaign {
class Runner;
}
namespace belay::control {
class ControlServer;
}

namespace belay::cli {

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
