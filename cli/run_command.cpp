// belay run: load the campaign, start the runner, reload scripts as they
// change, stop cleanly on SIGINT/SIGTERM.

#include "campaign/event_log.hpp"
#include "progress_display.hpp"
#include "campaign/runner.hpp"
#include "chrome/child_reaper.hpp"
#include "campaign/state_cleanup.hpp"
#include "commands.hpp"
#include "control/control_server.hpp"
#include "core/file_watcher.hpp"
#include "core/loop_end.hpp"
#include "core/private_files.hpp"
#include "script_host.hpp"
#include "store/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace belay::cli {
namespace {

namespace fs = std::filesystem;

// One run per state: a second would put the first one's items in flight
// back to pending and run them again. The lock is flock on the state
// directory itself, so it goes with the host however the host ends; CLOEXEC
// keeps it out of the browsers (a websocket browser may outlive its host).
class StateLock {
 public:
  explicit StateLock(const std::string& dir) {
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
      error_ = "cannot open " + dir + ": " + std::strerror(errno);
    } else if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      error_ = errno == EWOULDBLOCK
                   ? dir + " is in use by another belay run (belay attach --state " + dir +
                         " reaches it)"
                   : "cannot lock " + dir + ": " + std::strerror(errno);
    }
  }
  ~StateLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

// "file:line: message" -> {file, line, message} for the reload event. A
// plain scan, not a regex: the message is the script's and may be megabytes.
nlohmann::json reload_failure(const Error& e) {
  nlohmann::json params = {{"message", e.message}, {"kind", kind_name(e.kind)}};
  const std::string& text = e.message;
  for (size_t colon = text.find(':'); colon != std::string::npos;
       colon = text.find(':', colon + 1)) {
    size_t end = colon + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) ++end;
    const size_t digits = end - colon - 1;
    if (colon == 0 || digits == 0 || digits > 9 || text.compare(end, 2, ": ") != 0) continue;
    // Lua names the file as it was given; the watcher reports it absolute.
    std::error_code ec;
    params["file"] = fs::absolute(text.substr(0, colon), ec).lexically_normal().string();
    params["line"] = std::stoi(text.substr(colon + 1, digits));
    params["message"] = text.substr(end + 2);
    break;
  }
  return params;
}

}  // namespace

int run_command(const RunArgs& args) {
  // Profiles and events may hold private data.
  for (const std::string& dir : {args.state_dir, args.state_dir + "/screenshots"}) {
    if (auto error = make_private_dirs(dir)) {
      std::fprintf(stderr, "belay: %s\n", error->c_str());
      return 2;
    }
  }
  const StateLock lock(args.state_dir);
  if (!lock.error().empty()) {
    std::fprintf(stderr, "belay: %s\n", lock.error().c_str());
    return 2;
  }
  campaign::EventLog events(args.state_dir + "/events.jsonl", "");
  if (!events.ok()) {
    std::fprintf(stderr, "belay: %s\n", events.error().c_str());
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  // The store is checked before anything else runs: a corrupt or foreign
  // state stops the run here, untouched.
  auto store = store::open_sqlite_store(args.state_dir);
  if (!store) {
    std::fprintf(stderr, "belay: %s\n", store.error().message.c_str());
    uv_loop_close(&loop);
    return 2;
  }
  // A host that died (SIGKILL, a power cut) may have left its browsers
  // running, holding the profiles' directories: end them before this run
  // launches its own. Only marked browsers of this state whose host is gone.
  const campaign::CleanupReport reaped = campaign::clean_state(args.state_dir, false);
  if (!reaped.killed.empty()) {
    std::fprintf(stderr, "belay: ended the browsers of a host that is gone:\n%s",
                 campaign::describe(reaped).c_str());
  }
  campaign::log_cleanup(events, reaped, false, false);
  // Closed before the loop is drained (its handle is freed by the loop).
  auto reaper = std::make_unique<chrome::ChildReaper>(&loop);
  cli::ProgressDisplay display(&loop);
  lua::ScriptHostOptions options;
  options.screenshots_dir = args.state_dir + "/screenshots";
  options.log = [&display](std::string_view level, std::string_view message) {
    display.print("[" + std::string(level) + "] " + std::string(message));
  };
  options.event = [&events](const std::string& name, const nlohmann::json& params) {
    events.write(campaign::Event{name, "", "", "", params, "", {}});
  };
  events.on_event([&display](const nlohmann::json& e) {
    if (e.value("event", "") == "run_start" && e["params"].is_object()) {
      const auto& p = e["params"];
      display.progress().begin(p.value("items", int64_t{0}), p.value("done_before", int64_t{0}), 0);
    }
    display.observe(e);
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
      auto runner = campaign::make_durable_runner(&loop, config.value(), host->executor(),
                                                  events, *store.value(), run_options);
      // A reload, from a changed file or from the console, and its event.
      auto reload = [&](const std::string& path) -> Result<nlohmann::json> {
        auto version = host->reload();
        if (!version) {
          nlohmann::json params = reload_failure(version.error());
          if (!params.contains("file")) params["file"] = path;
          events.write(campaign::Event{"reload", "", "", "", params, "fail", {}});
          return version.error();
        }
        events.write(campaign::Event{"reload", "", "", "",
                                     {{"file", path}, {"version", version.value()}}, "ok", {}});
        return nlohmann::json{{"version", version.value()}};
      };
      FileWatcher watcher(&loop, [&](const std::string& path) { reload(path); });
      if (!args.no_reload) {
        watcher.watch_file(fs::absolute(args.campaign).string());
        for (const auto& ladder : config.value().ladder_files) {
          watcher.watch_file(fs::absolute(ladder).string());
        }
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
      // belay attach: a console inside this run, on STATE/control.sock; its
      // reload() is the watcher's, with the same event.
      auto console = serve_console(&loop, *runner, args, [&]() {
        return reload(fs::absolute(args.campaign).string());
      });
      bool finished = false;
      auto started = runner->start([&](int code) {
        exit_code = code;
        finished = true;
        watcher.stop();
        display.stop();
        uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
      });
      if (started) {
        std::fprintf(stderr, "belay: %s\n", started->message.c_str());
        exit_code = 2;
        finished = true;
        watcher.stop();
        display.stop();
        uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
      }
      while (!finished && uv_run(&loop, UV_RUN_ONCE) != 0) {
      }
      console.reset();  // attached consoles end with the run
      uv_run(&loop, UV_RUN_NOWAIT);
    }
  }
  reaper.reset();
  end_loop(&loop, "belay run");
  return exit_code;
}

}  // namespace belay::cli
