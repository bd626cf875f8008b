// belay repl: a browser of its own and a Lua prompt in the same sandbox as
// scripts, with `page`, `browser` and `belay` ready (and `campaign`, `ctx`
// and the ladder when a campaign is given).

#include "browser/browser_session.hpp"
#include "browser/browser_spec.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>
#include "console.hpp"
#include "core/loop_end.hpp"
#include "core/private_files.hpp"
#include "repl/repl.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>

namespace belay::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kReplProfile = "repl";

class LocalBackend final : public ConsoleBackend {
 public:
  explicit LocalBackend(lua::Repl& repl) : repl_(repl) {}
  void evaluate(const std::string& chunk, Evaluated done) override {
    repl_.evaluate(chunk, [done = std::move(done)](lua::ReplReply r) { done(r.ok, r.text); });
  }
  void cancel() override { repl_.cancel("cancelled at the console (Ctrl-C)"); }
  void complete(const std::string& word, Completed done) override { done(repl_.complete(word)); }
  bool alive() const override { return true; }

 private:
  lua::Repl& repl_;
};

std::shared_ptr<browser::BrowserSession> start_browser(uv_loop_t* loop, const ReplArgs& args) {
  browser::BrowserDefaults defaults;
  defaults.state_dir = args.state_dir;
  defaults.chrome_path = args.chrome_path;
  defaults.headless = !args.headful;
  defaults.connect = args.connect;
  auto session = std::make_shared<browser::BrowserSession>(
      loop, browser::profile_browser_spec({kReplProfile, "", "", {}}, defaults));
  std::optional<std::optional<Error>> ready;
  session->start([&](std::optional<Error> e) { ready = std::move(e); });
  while (!ready && uv_run(loop, UV_RUN_ONCE) != 0) {
  }
  if (!ready || *ready) {
    std::fprintf(stderr, "belay: cannot start the browser: %s\n",
                 ready && *ready ? (*ready)->to_string().c_str() : "no answer");
    return nullptr;
  }
  return session;
}

int run_repl(uv_loop_t* loop, const ReplArgs& args) {
  lua::ReplOptions options;
  if (!args.campaign.empty()) {
    const fs::path dir = fs::absolute(args.campaign).parent_path();
    options.module_dirs.push_back(dir.string());
  } else {
    options.module_dirs.push_back(".");
  }
  options.state_dir = args.state_dir;
  options.print = [](std::string_view line) {
    std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  };
  auto repl = lua::Repl::create(loop, options);
  if (!repl) {
    std::fprintf(stderr, "belay: %s\n", repl.error().to_string().c_str());
    return 2;
  }
  auto session = start_browser(loop, args);
  if (!session) return 2;
  repl.value()->set_session_lookup(
      [session](const std::string& name) { return name == kReplProfile ? session : nullptr; });
  repl.value()->use_profile(kReplProfile);
  int code = 0;
  if (!args.campaign.empty()) {
    if (auto e = repl.value()->load_campaign(args.campaign)) {
      std::fprintf(stderr, "%s\n", e->message.c_str());
      code = 2;
    }
  }
  if (code == 0) {
    LocalBackend backend(*repl.value());
    code =
        run_console(loop, backend, ConsoleOptions{args.state_dir + "/repl_history", "> ", ">> ",
                       "belay repl: Lua with a browser of its own. help() lists what is here; "
                       "Ctrl-D leaves."});
  }
  repl.value().reset();  // no chunk may outlive the browser it talks to
  bool closed = false;
  session->close([&] { closed = true; });
  while (!closed && uv_run(loop, UV_RUN_ONCE) != 0) {
  }
  return code;
}

}  // namespace

int repl_command(const ReplArgs& args) {
  // History and profiles may hold private data.
  for (const std::string& dir : {args.state_dir, args.state_dir + "/screenshots"}) {
    if (auto error = make_private_dirs(dir)) {
      std::fprintf(stderr, "belay: %s\n", error->c_str());
      return 2;
    }
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  const int code = run_repl(&loop, args);
  end_loop(&loop, "belay repl");
  return code;
}

Command add_repl_command(CLI::App& app) {
  auto args = std::make_shared<ReplArgs>();
  CLI::App* cmd = app.add_subcommand("repl", "a Lua prompt with a browser of its own");
  cmd->add_option("campaign", args->campaign, "a campaign to load at the prompt")
      ->check(CLI::ExistingFile);
  cmd->add_option("--state", args->state_dir, "state directory (default ./.belay)");
  cmd->add_option("--connect", args->connect, "attach to a running browser (ws://...)")
      ->check(ws_url_validator());
  cmd->add_option("--chrome", args->chrome_path, "the browser to launch")->check(CLI::ExistingFile);
  cmd->add_flag("--headful", args->headful, "show the browser window");
  return {cmd, [args] { return repl_command(*args); }};
}

}  // namespace belay::cli
