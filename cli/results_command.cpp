// `belay results [--state DIR] [--status S] [--json | --csv]`: every item
// with its result or error, read from the state without writing to it (a
// running `belay run` may own it).

#include "commands.hpp"
#include "store/results_report.hpp"
#include "store/store.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

namespace belay::cli {
namespace {

struct ResultsArgs {
  std::string state = ".belay";
  std::string status;
  bool json = false;
  bool csv = false;
};

int results_command(const ResultsArgs& args) {
  std::optional<store::ItemStatus> status;
  if (!args.status.empty()) {
    status = store::status_from_name(args.status);
    if (!status) {
      std::fprintf(stderr,
                   "belay: --status: '%s' is not a status (pending, running, done, failed, "
                   "skipped)\n",
                   args.status.c_str());
      return 2;
    }
  }
  auto store = store::open_sqlite_store(args.state, store::OpenOptions{/*read_only=*/true});
  if (!store) {
    std::fprintf(stderr, "belay: %s\n", store.error().message.c_str());
    return 2;
  }
  const auto format = args.json  ? store::ResultsFormat::json_lines
                      : args.csv ? store::ResultsFormat::csv
                                 : store::ResultsFormat::table;
  auto report = store::format_results(*store.value(), status, format);
  if (!report) {
    std::fprintf(stderr, "belay: %s\n", report.error().message.c_str());
    return 2;
  }
  std::fwrite(report.value().data(), 1, report.value().size(), stdout);
  return 0;
}

}  // namespace

Command add_results_command(CLI::App& app) {
  auto args = std::make_shared<ResultsArgs>();
  CLI::App* cmd =
      app.add_subcommand("results", "print the items with their results or errors (read-only)");
  cmd->add_option("--state", args->state, "state directory (default ./.belay)");
  cmd->add_option("--status", args->status, "only items with this status: done, failed, ...");
  auto* json = cmd->add_flag("--json", args->json, "one JSON object a line");
  cmd->add_flag("--csv", args->csv, "CSV with a header row")->excludes(json);
  return {cmd, [args] { return results_command(*args); }};
}

}  // namespace belay::cli
