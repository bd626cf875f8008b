#pragma once
#include <string>
#include <vector>

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

int run_command(const RunArgs& args);
int check_command(const std::vector<std::string>& files);
int status_command(const std::string& state_dir);
int cleanup_command(const std::string& state_dir, bool emergency);

}  // namespace belay::cli
