// belay run: load the campaign, start the runner, reload scripts as they
// change, stop cleanly on SIGINT/SIGTERM.

#include "campaign/event_log.hpp"
#include "campaign/runner.hpp"
#include "commands.hpp"
#include "core/file_watcher.hpp"
#include "script_host.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <regex>

namespace belay::cli {
namespace {

namespace fs = std::filesystem;

bool make_private_dir(const std::string& dir, std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  ::chmod(dir.c_str(), 0700);  // profiles and events may hold private data
  return true;
}

// "file:line: message" -> {file, line, message} for the reload event.
nlohmann::json reload_failure(const Error& e) {
  static const std::regex where(R"(^(.*?):(\d+): (.*)$)");
  std::smatch m;
  nlohmann::json params = {{"message", e.message}, {"kind", kind_name(e.kind)}};
  if (std::regex_match(e.message, m, where)) {
    // Lua names the file as it was given; the watcher reports it absolute.
    params["file"] = fs::absolute(m[1].str()).lexically_normal().string();
    params["line"] = std::stoi(m[2].str());
    params["message"] = m[3].str();
  }
  return params;
}

}  // namespace

int run_command(const RunArgs& args) {
  std::string error;
  if (!make_private_dir(args.state_dir, &error) ||
      !make_private_dir(args.state_dir + "/screenshots", &error)) {
    std::fprintf(stderr, "belay: %s\n", error.c_str());
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  campaign::EventLog events(args.state_dir + "/events.jsonl", "");
  if (!events.ok()) {
    std::fprintf(stderr, "belay: %s\n", events.error().c_str());
    return 2;
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  lua::ScriptHostOptions options;
  options.screenshots_dir = args.state_dir + "/screenshots";
  options.log = [](std::string_view level, std::string_view message) {
    std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(level.size()), level.data(),
                 static_cast<int>(message.size()), message.data());
  };
  options.event = [&events](const std::string& name, const nlohmann::json& params) {
    events.write(campaign::Event{name, "", "", "", params, "", {}});
  };
  events.on_event([tty](const nlohmann::json& e) {
    // Off a terminal, plain lines; the live progress line comes with the
    // durable runner.
    (void)tty;
    std::fprintf(stderr, "%s %s%s%s%s\n", e["event"].get<std::string>().c_str(),
                 e["item"].is_string() ? "item=" : "",
                 e["item"].is_string() ? e["item"].get<std::string>().c_str() : "",
                 e["outcome"].is_string() ? " " : "",
                 e["outcome"].is_string() ? e["outcome"].get<std::string>().c_str() : "");
  });
  int exit_code = 2;
  {
    auto host = lua::ScriptHost::create(&loop, options);
    auto config = host->load(args.campaign);
    if (!config) {
      std::fprintf(stderr, "%s\n", config.error().message.c_str());
    } else {
      events.set_campaign(config.value().name);
      campaign::RunOptions run_options;
      run_options.state_dir = args.state_dir;
      run_options.chrome_path = args.chrome_path;
      run_options.headless = !args.headful;
      run_options.connect = args.connect;
      run_options.transport =
          args.transport == "ws" ? chrome::TransportKind::websocket : chrome::TransportKind::pipe;
      auto runner = campaign::make_sequential_runner(&loop, config.value(), host->executor(),
                                                     events, run_options);
      FileWatcher watcher(&loop, [&](const std::string& path) {
        auto version = host->reload();
        if (version) {
          events.write(campaign::Event{"reload", "", "", "",
                                       {{"file", path}, {"version", version.value()}}, "ok", {}});
        } else {
          nlohmann::json params = reload_failure(version.error());
          if (!params.contains("file")) params["file"] = path;
          events.write(campaign::Event{"reload", "", "", "", params, "fail", {}});
        }
      });
      if (!args.no_reload) {
        watcher.watch_file(fs::absolute(args.campaign).string());
        const fs::path dir = fs::absolute(args.campaign).parent_path();
        if (fs::is_directory(dir / "recovery-ladders")) {
          watcher.watch_directory((dir / "recovery-ladders").string());
        }
        if (fs::is_directory(dir / "scripts")) watcher.watch_directory((dir / "scripts").string());
      }
      // A signal stops the run: no new item starts, and the calls in flight
      // (a navigation, a belay.sleep) are cancelled so the item ends now
      // rather than at its own deadline.
      struct Shutdown {
        campaign::Runner* runner;
        lua::ScriptHost* host;
      } stopper{runner.get(), host.get()};
      uv_signal_t sigint;
      uv_signal_t sigterm;
      uv_signal_init(&loop, &sigint);
      uv_signal_init(&loop, &sigterm);
      sigint.data = &stopper;
      sigterm.data = &stopper;
      auto on_signal = [](uv_signal_t* s, int signum) {
        auto* stop = static_cast<Shutdown*>(s->data);
        stop->runner->stop();
        stop->host->cancel_all(Error{Kind::cancelled,
                                     std::string("belay is shutting down (") +
                                         (signum == SIGINT ? "SIGINT" : "SIGTERM") + ")",
                                     "shutdown",
                                     {}});
      };
      uv_signal_start(&sigint, on_signal, SIGINT);
      uv_signal_start(&sigterm, on_signal, SIGTERM);
      bool finished = false;
      runner->start([&](int code) {
        exit_code = code;
        finished = true;
        watcher.stop();
        uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
      });
      while (!finished && uv_run(&loop, UV_RUN_ONCE) != 0) {
      }
      uv_run(&loop, UV_RUN_NOWAIT);
    }
  }
  while (uv_run(&loop, UV_RUN_NOWAIT) != 0) {
  }
  uv_loop_close(&loop);
  return exit_code;
}

}  // namespace belay::cli
