// belay's command line. Exit codes: 0 all items done; 1 some failed or a
// profile is fatal; 2 usage or config error.

#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"belay: long browser campaigns over CDP, with recovery written in Lua"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "belay 0.1.0");
  using namespace belay::cli;
  const std::vector<Command> commands = {add_run_command(app),    add_check_command(app),
                                         add_status_command(app), add_repl_command(app),
                                         add_attach_command(app), add_cleanup_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors are exit 2, --help is 0
  }
  for (const Command& command : commands) {
    if (*command.app) return command.run();
  }
  return 2;
}
