#include "commands.hpp"
#include "script_host.hpp"

#include <cstdio>

namespace belay::cli {

int check_command(const std::vector<std::string>& files) {
  for (const auto& file : files) {
    auto report = lua::check_file(file);
    if (!report) {
      // The message already reads "file:line: what".
      std::fprintf(stderr, "%s\n", report.error().message.c_str());
      return 2;
    }
    std::printf("%s: ok (%s)\n", file.c_str(), report.value().summary.c_str());
  }
  return 0;
}

}  // namespace belay::cli
