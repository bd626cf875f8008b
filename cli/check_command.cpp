#include "commands.hpp"

#include <CLI/CLI.hpp>
#include "script_host.hpp"

#include <cstdio>

namespace belay::cli {

int check_command(const std::vector<std::string>& files) {
  for (const auto& file : files) {
    auto report = lua::check_file(file);
    if (!report) {
      // Most messages already read "file:line: what"; a quota stop (a
      // runaway top level) names no file, and with several files checked the
      // reader must still learn which one.
      const std::string& message = report.error().message;
      if (message.compare(0, file.size() + 1, file + ":") == 0) {
        std::fprintf(stderr, "%s\n", message.c_str());
      } else {
        std::fprintf(stderr, "%s: %s\n", file.c_str(), message.c_str());
      }
      return 2;
    }
    std::printf("%s: ok (%s)\n", file.c_str(), report.value().summary.c_str());
  }
  return 0;
}

Command add_check_command(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("check", "compile and validate scripts without a browser");
  cmd->add_option("files", *files, "FILE.lua ...")->required();
  return {cmd, [files] { return check_command(*files); }};
}

}  // namespace belay::cli
