// belay's command line. Exit codes: 0 all items done; 1 some failed or a
// profile is fatal; 2 usage or config error.

#include "commands.hpp"
#include "core/near_miss.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kExitCodes =
    "\nExit codes:\n"
    "  0  every item is done\n"
    "  1  some items failed, or a profile is fatal\n"
    "  2  a usage or configuration error (nothing was run)\n";

// CLI11 says nothing useful about a first word that is no command (it waits
// for one and reports "A subcommand is required", or nothing at all): name
// it, and the command it was probably meant to be.
bool refuse_unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2) return false;
  const std::string_view word = argv[1];
  if (word.empty() || word[0] == '-') return false;
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  for (const auto& name : names) {
    if (name == word) return false;
  }
  const std::vector<std::string_view> candidates(names.begin(), names.end());
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  std::fprintf(stderr, "belay: unknown command '%.*s'%s; the commands are %s (belay --help)\n",
               static_cast<int>(word.size()), word.data(),
               belay::did_you_mean(word, candidates).c_str(), list.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"belay: long browser campaigns over CDP, with recovery written in Lua"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "belay 0.1.0");
  app.footer(kExitCodes);
  using namespace belay::cli;
  const std::vector<Command> commands = {
      add_run_command(app),    add_check_command(app),  add_status_command(app),
      add_results_command(app), add_pause_command(app), add_resume_command(app),
      add_repl_command(app),   add_attach_command(app), add_cleanup_command(app)};
  if (refuse_unknown_command(app, argc, argv)) return 2;
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
