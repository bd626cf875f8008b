#pragma once
// Starts one Chromium in its own process group and hands back where its
// DevTools endpoint is: the two pipe ends (fds 3/4) or the WebSocket URL
// found through DevToolsActivePort. Speaking CDP over them is the browser
// layer's job. Owns the process: reports its exit (status and signal) and
// kills its whole group when asked or when dropped.

#include "core/error.hpp"
#include "core/uv_handle.hpp"

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace belay::chrome {

enum class TransportKind { pipe, websocket };

std::string_view transport_kind_name(TransportKind kind);
std::optional<TransportKind> transport_kind_from_name(std::string_view name);

struct LaunchOptions {
  std::string chrome_path = "/usr/bin/chromium";
  // Empty: a fresh temporary directory, removed once the browser is gone.
  std::string user_data_dir;
  TransportKind transport = TransportKind::pipe;
  bool headless = true;
  std::vector<std::string> extra_flags;
  // Added to the browser's environment: the host marker that ties a browser
  // to the belay that started it.
  std::vector<std::pair<std::string, std::string>> extra_env;
  uint64_t startup_timeout_ms = 30000;
};

// Where a started browser listens for DevTools: with the pipe transport the
// two pipe ends (belay writes `to_browser`, reads `from_browser`), else the
// browser's WebSocket URL.
struct DevToolsChannel {
  UvHandle<uv_pipe_t> to_browser;
  UvHandle<uv_pipe_t> from_browser;
  std::string ws_url;
};

// The flags every launch gets: headless, no first-run UI, and nothing that
// reaches the network on its own (the machines running belay often have no
// route out, and background fetches only slow a start down).
std::vector<std::string> default_flags(const LaunchOptions& options);

struct ExitInfo {
  int64_t exit_status = 0;
  int term_signal = 0;
};

// The browser_disconnected error a process exit means ("browser process
// killed by signal 9 (Killed)").
Error browser_exited(int exit_status, int term_signal, std::string op = {});

class ChromeProcess {
 public:
  using ReadyCallback = std::function<void(Result<DevToolsChannel>)>;
  using ExitCallback = std::function<void(const ExitInfo&)>;

  ChromeProcess(uv_loop_t* loop, LaunchOptions options);
  ~ChromeProcess();
  ChromeProcess(const ChromeProcess&) = delete;
  ChromeProcess& operator=(const ChromeProcess&) = delete;

  // Spawns the browser; `ready` runs once, from the loop, with its DevTools
  // endpoint or why the launch failed.
  void start(ReadyCallback ready);
  void on_exit(ExitCallback handler) { exit_handler_ = std::move(handler); }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_; }
  const std::optional<ExitInfo>& exit_info() const { return exit_; }
  const std::string& user_data_dir() const { return user_data_dir_; }
  // The last few KiB the browser wrote to stderr, for error messages.
  std::string stderr_tail() const { return stderr_tail_; }

  // Signals every process in the browser's group.
  void signal_group(int signal) const;
  // SIGTERM to the group, SIGKILL after `grace_ms`; `done` after the exit.
  // With `linger_ms`, the process first gets that long to exit by itself
  // (it was asked to close).
  void terminate(uint64_t grace_ms, std::function<void()> done, uint64_t linger_ms = 0);

 private:
  void term_then_kill();
  int spawn();
  std::vector<std::string> command_line() const;
  std::vector<std::string> environment() const;
  void keep_stderr_tail();
  void wait_for_devtools_port();
  void on_process_exit(int64_t status, int signal);
  void fire_ready(Result<DevToolsChannel> result);
  void fire_ready_later(Result<DevToolsChannel> result);
  Error launch_error(std::string what) const;

  uv_loop_t* loop_;
  LaunchOptions options_;
  std::string user_data_dir_;
  bool owns_user_data_dir_ = false;
  UvHandle<uv_process_t> process_;
  UvHandle<uv_pipe_t> to_browser_;
  UvHandle<uv_pipe_t> from_browser_;
  UvHandle<uv_pipe_t> stderr_pipe_;
  UvHandle<uv_timer_t> poll_timer_;
  UvHandle<uv_timer_t> kill_timer_;
  uint64_t grace_ms_ = 0;
  std::string stderr_tail_;
  std::string stderr_buffer_;
  pid_t pid_ = 0;
  std::optional<ExitInfo> exit_;
  uint64_t started_at_ = 0;
  ReadyCallback ready_;
  ExitCallback exit_handler_;
  std::vector<std::function<void()>> exit_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::chrome
