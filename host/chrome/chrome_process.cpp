#include "chrome/chrome_process.hpp"

#include "chrome/child_reaper.hpp"
#include "chrome/devtools_port.hpp"
#include "chrome/host_marker.hpp"
#include "core/defer.hpp"
#include "core/private_files.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

extern char** environ;

namespace belay::chrome {
namespace {

constexpr size_t kStderrTailBytes = 4096;
constexpr uint64_t kPortPollMs = 20;

std::string make_temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/belay-chrome-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return {};
  return templ;
}

// NUL-terminated pointers into `strings`, for execve-style arrays.
std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Error browser_exited(int exit_status, int term_signal, std::string op) {
  std::string why = term_signal != 0 ? "killed by signal " + std::to_string(term_signal) + " (" +
                                           strsignal(term_signal) + ")"
                                     : "exited with status " + std::to_string(exit_status);
  return Error{Kind::browser_disconnected, "browser process " + why, std::move(op), {}};
}

std::string_view transport_kind_name(TransportKind kind) {
  return kind == TransportKind::pipe ? "pipe" : "ws";
}

std::optional<TransportKind> transport_kind_from_name(std::string_view name) {
  if (name == "pipe") return TransportKind::pipe;
  if (name == "ws" || name == "websocket") return TransportKind::websocket;
  return std::nullopt;
}

std::vector<std::string> default_flags(const LaunchOptions& options) {
  std::vector<std::string> flags = {
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-gpu",
      "--disable-quic",
      "--disable-breakpad",
      "--disable-default-apps",
      "--disable-extensions",
      "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,"
      "BackForwardCache",
      "--disable-background-timer-throttling",
      "--disable-backgrounding-occluded-windows",
      "--disable-renderer-backgrounding",
      "--disable-hang-monitor",
      "--disable-ipc-flooding-protection",
      "--disable-popup-blocking",
      "--disable-prompt-on-repost",
      "--disable-client-side-phishing-detection",
      "--metrics-recording-only",
      "--password-store=basic",
      "--use-mock-keychain",
      "--mute-audio",
      "--hide-scrollbars",
  };
  if (options.headless) flags.emplace_back("--headless");
  // Chrome's sandbox needs a user namespace or setuid helper; as root it
  // refuses to start without this.
  if (geteuid() == 0) flags.emplace_back("--no-sandbox");
  return flags;
}

ChromeProcess::ChromeProcess(uv_loop_t* loop, LaunchOptions options)
    : loop_(loop), options_(std::move(options)) {}

ChromeProcess::~ChromeProcess() {
  alive_.reset();
  exit_handler_ = nullptr;
  ready_ = nullptr;
  if (running()) {
    signal_group(SIGKILL);
    // Closing the handle stops libuv from reaping this child, so reap it
    // here: after SIGKILL this returns at once.
    process_.reset();
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    release_child(pid_);
  }
  if (owns_user_data_dir_ && !user_data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(user_data_dir_, ec);
  }
}

void ChromeProcess::signal_group(int signal) const {
  if (pid_ > 0) ::kill(-pid_, signal);
}

void ChromeProcess::start(ReadyCallback ready) {
  ready_ = std::move(ready);
  user_data_dir_ = options_.user_data_dir;
  if (user_data_dir_.empty()) {
    user_data_dir_ = make_temp_dir();
    owns_user_data_dir_ = true;
  } else if (auto error = make_private_dirs(user_data_dir_)) {
    fire_ready_later(launch_error("cannot create the user-data-dir: " + *error));
    return;
  }
  if (user_data_dir_.empty()) {
    fire_ready_later(launch_error("cannot create a user-data-dir"));
    return;
  }
  if (options_.transport == TransportKind::websocket) {
    std::error_code ec;
    std::filesystem::remove(devtools_port_file(user_data_dir_), ec);  // a stale one lies
  }
  uv_update_time(loop_);
  started_at_ = uv_now(loop_);
  const int rc = spawn();
  if (rc != 0) {
    fire_ready_later(
        launch_error(std::string("cannot start ") + options_.chrome_path + ": " + uv_strerror(rc)));
    return;
  }
  if (options_.transport == TransportKind::pipe) {
    DevToolsChannel channel;
    channel.to_browser = std::move(to_browser_);
    channel.from_browser = std::move(from_browser_);
    fire_ready_later(std::move(channel));
  } else {
    wait_for_devtools_port();
  }
}

std::vector<std::string> ChromeProcess::command_line() const {
  std::vector<std::string> args = {options_.chrome_path};
  for (auto& flag : default_flags(options_)) args.push_back(std::move(flag));
  args.push_back("--user-data-dir=" + user_data_dir_);
  args.emplace_back(options_.transport == TransportKind::pipe ? "--remote-debugging-pipe"
                                                              : "--remote-debugging-port=0");
  for (const auto& flag : options_.extra_flags) args.push_back(flag);
  args.emplace_back("about:blank");
  return args;
}

std::vector<std::string> ChromeProcess::environment() const {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    // A belay started from a belay-launched process must not pass on the
    // marker of the host that started that process.
    const std::string entry(*e);
    if (!is_marker_variable(entry.substr(0, entry.find('=')))) env.push_back(entry);
  }
  for (const auto& [k, v] : options_.extra_env) env.push_back(k + "=" + v);
  return env;
}

int ChromeProcess::spawn() {
  std::vector<std::string> args = command_line();
  std::vector<std::string> env = environment();
  std::vector<char*> argv = c_array(args);
  std::vector<char*> envp = c_array(env);

  uv_pipe_init(loop_, stderr_pipe_.get(), 0);
  uv_pipe_init(loop_, to_browser_.get(), 0);
  uv_pipe_init(loop_, from_browser_.get(), 0);
  uv_stdio_container_t stdio[5];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = stderr_pipe_.as_stream();
  // Flags are from the child's side: it reads fd 3 and writes fd 4.
  stdio[3].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
  stdio[3].data.stream = to_browser_.as_stream();
  stdio[4].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[4].data.stream = from_browser_.as_stream();

  uv_process_options_t spawn_options{};
  spawn_options.file = options_.chrome_path.c_str();
  spawn_options.args = argv.data();
  spawn_options.env = envp.data();
  spawn_options.stdio = stdio;
  spawn_options.stdio_count = options_.transport == TransportKind::pipe ? 5 : 3;
  // DETACHED = setsid(): the browser leads its own process group, so one
  // kill(-pgid) reaches every helper process it forks.
  spawn_options.flags = UV_PROCESS_DETACHED;
  spawn_options.exit_cb = [](uv_process_t* p, int64_t status, int signal) {
    if (p->data != nullptr) static_cast<ChromeProcess*>(p->data)->on_process_exit(status, signal);
  };
  process_->data = this;
  const int rc = uv_spawn(loop_, process_.get(), &spawn_options);
  if (rc != 0) return rc;
  pid_ = process_->pid;
  claim_child(pid_);
  keep_stderr_tail();
  return 0;
}

// The last few KiB of the browser's stderr, for the message of a failed start.
void ChromeProcess::keep_stderr_tail() {
  stderr_pipe_->data = this;
  uv_read_start(
      stderr_pipe_.as_stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<ChromeProcess*>(h->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        self->stderr_buffer_.resize(16384);
        *buf = uv_buf_init(self->stderr_buffer_.data(), 16384);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* self = static_cast<ChromeProcess*>(s->data);
        if (self == nullptr) return;
        if (n < 0) {
          uv_read_stop(s);
          return;
        }
        self->stderr_tail_.append(buf->base, static_cast<size_t>(n));
        if (self->stderr_tail_.size() > kStderrTailBytes) {
          self->stderr_tail_.erase(0, self->stderr_tail_.size() - kStderrTailBytes);
        }
      });
}

void ChromeProcess::wait_for_devtools_port() {
  uv_timer_init(loop_, poll_timer_.get());
  poll_timer_->data = this;
  uv_timer_start(
      poll_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<ChromeProcess*>(t->data);
        if (self == nullptr) return;
        auto endpoint = read_devtools_port(self->user_data_dir_);
        if (endpoint) {
          uv_timer_stop(t);
          DevToolsChannel found;
          found.ws_url = endpoint->browser_url();
          self->fire_ready(std::move(found));
          return;
        }
        uv_update_time(self->loop_);
        if (uv_now(self->loop_) - self->started_at_ > self->options_.startup_timeout_ms) {
          uv_timer_stop(t);
          self->fire_ready(deadline_passed("waiting for DevToolsActivePort",
                                           self->options_.startup_timeout_ms, "launch"));
        }
      },
      kPortPollMs, kPortPollMs);
}

void ChromeProcess::on_process_exit(int64_t status, int signal) {
  exit_ = ExitInfo{status, signal};
  release_child(pid_);
  // The leader is gone; its helpers (zygote, renderers) must not outlive it.
  signal_group(SIGKILL);
  poll_timer_.reset();
  kill_timer_.reset();
  stderr_pipe_.reset();
  if (ready_) {
    Error why = browser_exited(static_cast<int>(status), signal, "launch");
    why.message = "browser exited during start-up (" + why.message + ")";
    if (!stderr_tail_.empty()) why.message += "; stderr: " + stderr_tail_;
    fire_ready(std::move(why));
  }
  auto waiters = std::move(exit_waiters_);
  ExitCallback handler = exit_handler_;
  if (handler) handler(*exit_);
  for (auto& waiter : waiters) waiter();
}

void ChromeProcess::terminate(uint64_t grace_ms, std::function<void()> done, uint64_t linger_ms) {
  if (!running()) {
    if (done) done();
    return;
  }
  if (done) exit_waiters_.push_back(std::move(done));
  // Already being ended (a second close, a kill during a close): the
  // timer is running, and initialising it again would corrupt the loop's
  // timer heap.
  if (kill_timer_.initialized()) return;
  grace_ms_ = grace_ms;
  uv_timer_init(loop_, kill_timer_.get());
  kill_timer_->data = this;
  if (linger_ms == 0) return term_then_kill();
  // A browser asked to close saves its profile on the way out: signalling
  // the group at once kills the helpers that are still writing it.
  uv_timer_start(
      kill_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<ChromeProcess*>(t->data);
        if (self != nullptr) self->term_then_kill();
      },
      linger_ms, 0);
}

void ChromeProcess::term_then_kill() {
  signal_group(SIGTERM);
  // A stopped (SIGSTOPped, hung in a debugger) browser holds SIGTERM
  // pending until it runs again; without this it always waits for SIGKILL.
  signal_group(SIGCONT);
  uv_timer_start(
      kill_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<ChromeProcess*>(t->data);
        if (self != nullptr) self->signal_group(SIGKILL);
      },
      grace_ms_, 0);
}

void ChromeProcess::fire_ready_later(Result<DevToolsChannel> result) {
  // start() must not call back before it returns: the caller is usually
  // still assigning the object that the callback will use.
  auto holder = std::make_shared<Result<DevToolsChannel>>(std::move(result));
  std::weak_ptr<bool> alive = alive_;
  defer(loop_, [this, alive, holder]() {
    if (!alive.expired()) fire_ready(std::move(*holder));
  });
}

void ChromeProcess::fire_ready(Result<DevToolsChannel> result) {
  if (!ready_) return;
  ReadyCallback ready = std::move(ready_);
  ready_ = nullptr;
  ready(std::move(result));
}

Error ChromeProcess::launch_error(std::string what) const {
  return Error{Kind::browser_disconnected, std::move(what), "launch", {}};
}

}  // namespace belay::chrome
