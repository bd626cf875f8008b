// belay attach, both halves. The client connects to a running `belay run`
// over STATE/control.sock and shows the console; the host half
// (serve_console) gives every client an evaluator of its own inside the run,
// with the run's profiles and an operator's functions: status(), events(n),
// pause(p [, ms | {ms, close_browser}]), resume(p), reload(), step(p, name), page_of(p), use(p).

#include "campaign/runner.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>
#include "console.hpp"
#include "control/control_client.hpp"
#include "control/control_server.hpp"
#include "core/json_text.hpp"
#include "core/loop_end.hpp"
#include "core/near_miss.hpp"
#include "repl/repl.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace belay::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// --- host half -------------------------------------------------------------

class ReplControlSession final : public control::ControlSession {
 public:
  explicit ReplControlSession(std::unique_ptr<lua::Repl> repl) : repl_(std::move(repl)) {}
  void eval(const std::string& chunk, Evaluated done) override {
    repl_->evaluate(chunk, [done = std::move(done)](lua::ReplReply r) { done(r.ok, r.text); });
  }
  bool busy() const override { return repl_->busy(); }
  void cancel() override { repl_->cancel("cancelled at the attached console (Ctrl-C)"); }
  std::vector<std::string> complete(const std::string& word) override {
    return repl_->complete(word);
  }

 private:
  std::unique_ptr<lua::Repl> repl_;
};

// The last `n` events of events.jsonl, read from the file's tail only.
json tail_events(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  json out = json::array();
  if (!in) return out;
  const std::streamoff size = in.tellg();
  const std::streamoff window =
      std::min<std::streamoff>(size, static_cast<std::streamoff>(n) * 4096);
  in.seekg(size - window);
  std::string text(static_cast<size_t>(window), '\0');
  in.read(text.data(), window);
  std::vector<json> events;
  size_t start = window < size ? text.find('\n') + 1 : 0;  // skip a partial first line
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a line still being written
    json e = parse_json_or_discard(std::string_view(text).substr(start, end - start));
    if (!e.is_discarded()) events.push_back(std::move(e));
    start = end + 1;
  }
  const size_t first = events.size() > n ? events.size() - n : 0;
  for (size_t i = first; i < events.size(); ++i) out.push_back(std::move(events[i]));
  return out;
}

Result<std::string> profile_arg(const json& args, const char* op) {
  if (args.empty() || !args[0].is_string()) {
    return Error{Kind::config, std::string(op) + " needs a profile name", op, {}};
  }
  return args[0].get<std::string>();
}

struct PauseHow {
  uint64_t ms = kDefaultPauseMs;
  bool close_browser = false;
};

// pause(p), pause(p, ms) or pause(p, {ms = …, close_browser = true}).
Result<PauseHow> pause_options(const json& arg) {
  PauseHow how;
  auto read_ms = [&how](const json& v) -> std::optional<Error> {
    if (!v.is_number() || v.get<double>() <= 0 || v.get<double>() > 1e15) {
      return Error{Kind::config, "pause: ms must be a positive number of milliseconds, got " +
                                     v.dump(), "pause", {}};
    }
    how.ms = static_cast<uint64_t>(v.get<double>());
    return std::nullopt;
  };
  if (arg.is_null()) return how;
  if (arg.is_number()) {
    if (auto e = read_ms(arg)) return *e;
    return how;
  }
  if (!arg.is_object()) {
    return Error{Kind::config,
                 "pause: the second argument is ms or {ms, close_browser}, got " + arg.dump(),
                 "pause", {}};
  }
  for (const auto& [key, value] : arg.items()) {
    if (key == "ms") {
      if (auto e = read_ms(value)) return *e;
    } else if (key == "close_browser") {
      if (!value.is_boolean()) {
        return Error{Kind::config, "pause: close_browser must be a boolean", "pause", {}};
      }
      how.close_browser = value.get<bool>();
    } else {
      return Error{Kind::config,
                   "pause: unknown option '" + key + "'" +
                       did_you_mean(key, {"ms", "close_browser"}) + " (known: ms, close_browser)",
                   "pause", {}};
    }
  }
  return how;
}

json profile_status(campaign::Runner& runner, const std::string& name) {
  for (const auto& p : runner.status().value("profiles", json::array())) {
    if (p.value("name", "") == name) return p;
  }
  return nullptr;
}

void define_operator_functions(lua::Repl& repl, campaign::Runner& runner, const RunArgs& args,
                               const ConsoleReload& reload) {
  repl.define("status", [&runner](const json&) -> Result<json> { return runner.status(); });
  const std::string events_path = args.state_dir + "/events.jsonl";
  repl.define("events", [events_path](const json& a) -> Result<json> {
    const int64_t n = !a.empty() && a[0].is_number_integer() ? a[0].get<int64_t>() : 20;
    return tail_events(events_path, static_cast<size_t>(std::clamp<int64_t>(n, 1, 1000)));
  });
  repl.define("pause", [&runner](const json& a) -> Result<json> {
    auto profile = profile_arg(a, "pause");
    if (!profile) return profile.error();
    auto how = pause_options(a.size() > 1 ? a[1] : json(nullptr));
    if (!how) return how.error();
    if (auto e = runner.pause_profile(profile.value(), how.value().ms, how.value().close_browser)) {
      return *e;
    }
    return profile_status(runner, profile.value());
  });
  repl.define("resume", [&runner](const json& a) -> Result<json> {
    auto profile = profile_arg(a, "resume");
    if (!profile) return profile.error();
    if (auto e = runner.resume_profile(profile.value())) return *e;
    return profile_status(runner, profile.value());
  });
  repl.define("reload", [&repl, reload](const json&) -> Result<json> {
    auto result = reload();
    if (!result) {
      Error error = result.error();
      if (error.op.empty()) error.op = "reload";  // shown after the message
      return error;
    }
    repl.reload_campaign_later();
    return result;
  });
}

std::unique_ptr<control::ControlSession> make_session(uv_loop_t* loop, campaign::Runner& runner,
                                                      const RunArgs& args,
                                                      const ConsoleReload& reload,
                                                      std::function<void(std::string_view)> print) {
  lua::ReplOptions options;
  options.module_dirs.push_back(fs::absolute(args.campaign).parent_path().string());
  options.state_dir = args.state_dir;
  options.print = std::move(print);
  auto made = lua::Repl::create(loop, options);
  if (!made) return nullptr;
  std::unique_ptr<lua::Repl> repl = std::move(made.value());
  repl->set_session_lookup([&runner](const std::string& p) { return runner.session(p); });
  define_operator_functions(*repl, runner, args, reload);
  if (auto e = repl->load_campaign(args.campaign); e && options.print) {
    options.print("the console has no copy of the campaign: " + e->to_string());
  }
  const json profiles = runner.status().value("profiles", json::array());
  if (!profiles.empty()) repl->use_profile(profiles[0].value("name", ""));
  return std::make_unique<ReplControlSession>(std::move(repl));
}

// --- client half -----------------------------------------------------------

class RemoteBackend final : public ConsoleBackend {
 public:
  explicit RemoteBackend(control::ControlClient& client) : client_(client) {
    client_.on_message([this](const json& m) { on_message(m); });
  }
  void evaluate(const std::string& chunk, Evaluated done) override {
    evaluated_ = std::move(done);
    client_.send(control::Request{++last_id_, control::Op::eval, chunk});
  }
  void cancel() override { client_.send(control::Request{last_id_, control::Op::cancel, ""}); }
  void complete(const std::string& word, Completed done) override {
    completed_ = std::move(done);
    client_.send(control::Request{++last_id_, control::Op::complete, word});
  }
  bool alive() const override { return client_.connected(); }

 private:
  // A field of the wrong type reads as absent: the socket's other end is
  // not trusted to be a belay (json::value would throw).
  static std::string text_of(const json& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  void on_message(const json& m) {
    if (m.contains("print")) {
      std::printf("%s\n", text_of(m, "print").c_str());
      std::fflush(stdout);
      return;
    }
    const bool ok = m.contains("ok") && m["ok"] == true;
    if (!m.contains("id") || m["id"] != json(last_id_)) {
      if (m.contains("ok") && !ok) std::fprintf(stderr, "%s\n", text_of(m, "error").c_str());
      return;
    }
    if (m.contains("candidates") && completed_) {
      auto done = std::move(completed_);
      completed_ = nullptr;
      std::vector<std::string> words;
      if (m["candidates"].is_array()) {
        for (const auto& w : m["candidates"]) {
          if (w.is_string()) words.push_back(w.get<std::string>());
        }
      }
      done(std::move(words));
    } else if (evaluated_) {
      auto done = std::move(evaluated_);
      evaluated_ = nullptr;
      done(ok, ok ? text_of(m, "text") : text_of(m, "error"));
    }
  }

  control::ControlClient& client_;
  int64_t last_id_ = 0;
  Evaluated evaluated_;
  Completed completed_;
};

}  // namespace

std::unique_ptr<control::ControlServer> serve_console(uv_loop_t* loop, campaign::Runner& runner,
                                                      const RunArgs& args, ConsoleReload reload) {
  auto server = std::make_unique<control::ControlServer>(
      loop, [loop, &runner, args, reload](std::function<void(std::string_view)> print) {
        return make_session(loop, runner, args, reload, std::move(print));
      });
  if (auto e = server->listen(args.state_dir + "/control.sock")) {
    // The run goes on without a console rather than not at all.
    std::fprintf(stderr, "belay: no console for this run: %s\n", e->message.c_str());
  }
  return server;
}

int attach_command(const std::string& state_dir) {
  ::signal(SIGPIPE, SIG_IGN);  // a run that ends mid-write is reported, not fatal
  uv_loop_t loop;
  uv_loop_init(&loop);
  int code = 0;
  {
    control::ControlClient client(&loop);
    if (auto e = client.connect(state_dir + "/control.sock")) {
      std::fprintf(stderr, "belay: %s\n", e->message.c_str());
      code = 2;
    } else {
      RemoteBackend backend(client);
      code = run_console(&loop, backend,
                         ConsoleOptions{state_dir + "/attach_history", "attach> ", ">> ",
                                        "belay attach: a console inside the run on " +
                                            state_dir +
                                            ". help() lists what is here; Ctrl-D leaves, the "
                                            "run goes on."});
      if (!client.connected()) std::fprintf(stderr, "belay: the run has ended\n");
    }
  }
  end_loop(&loop, "belay attach");
  return code;
}

Command add_attach_command(CLI::App& app) {
  auto state = std::make_shared<std::string>(".belay");
  CLI::App* cmd = app.add_subcommand("attach", "a Lua prompt inside a running `belay run`");
  cmd->add_option("--state", *state, "the run's state directory (default ./.belay)");
  return {cmd, [state] { return attach_command(*state); }};
}

}  // namespace belay::cli
