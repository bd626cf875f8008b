#pragma once
// Runs the real `belay` binary for end-to-end tests: spawn it with arguments
// and environment in a directory of the test's own, capture stdout and stderr
// to files, wait with a deadline, and kill it by its PID (never by name) if
// the deadline passes. Also reads events.jsonl and scans the process table
// for what a run left behind.

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace belay::test {

// BELAY_BINARY_DIR/belay.
std::string belay_binary();
// BELAY_SOURCE_DIR/relative.
std::string source_path(const std::string& relative);

// A fresh directory from mkdtemp. On destruction, as a safety net, any live
// process whose command line mentions the directory is killed by its PID
// (only this test can have started one: the path is unique), then the
// directory is removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "belay-e2e-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(const std::string& name) const;
  // Writes `content` to path()/name (truncating); returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

struct BelayOptions {
  std::string binary;                                    // empty: belay_binary()
  std::string cwd;                                       // empty: the log dir
  std::vector<std::pair<std::string, std::string>> env;  // set on top of ours
  std::optional<mode_t> umask;                           // the child's umask
  std::string stdin_path;                                // empty: /dev/null
  int stdin_fd = -1;  // else, when >= 0: the child's stdin (a pipe the test holds)
  // SIGKILL when the spawning thread ends: for a long driver (the soak)
  // whose own death must not leave a host running.
  bool dies_with_parent = false;
};

class BelayProcess {
 public:
  // Spawns belay with `args` (argv[1...]). Its stdout and stderr go to
  // log_dir/belay-N.out and .err. A failed spawn is a test failure and
  // leaves a process that has "exited" with code 127.
  BelayProcess(std::vector<std::string> args, const std::string& log_dir,
               BelayOptions options = {});
  // Kills (SIGKILL, by PID) and reaps a belay that is still running.
  ~BelayProcess();
  BelayProcess(const BelayProcess&) = delete;
  BelayProcess& operator=(const BelayProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reaps it if it exited; true while it runs.
  bool running();
  // True if it exited within `timeout`; it is left running otherwise.
  bool wait_for_exit(std::chrono::milliseconds timeout);
  // Waits up to `timeout`; past it, kills it by PID (SIGKILL), reaps it and
  // records timed_out(). Returns exit_code().
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void send_signal(int sig);
  // SIGKILL (by PID) and reap, if it still runs.
  void kill_now();

  bool exited() const { return exited_; }
  bool timed_out() const { return timed_out_; }
  // The exit status, or -1 if a signal ended it.
  int exit_code() const { return exit_code_; }
  int term_signal() const { return term_signal_; }
  // Seconds from spawn to exit (or to now while it runs).
  double seconds() const;

  std::string out() const;
  std::string err() const;
  // The last `lines` lines of stderr, each indented.
  std::string err_tail(size_t lines) const;
  // "running", "exit N" or "signal N".
  std::string exit_summary() const;
  // "belay ARGS -> exit N\nstdout: ...\nstderr: ..." for failure messages.
  std::string describe() const;

 private:
  void reap(int status);

  std::vector<std::string> args_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  bool timed_out_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point ended_;
};

// Runs belay to the end (or the deadline) and returns the finished process.
struct BelayRun {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
  double seconds = 0;
  std::string describe;
};
BelayRun run_belay(std::vector<std::string> args, const std::string& log_dir,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60),
                   BelayOptions options = {});

// The complete lines of a file (a last line without its newline is still
// being written and left out).
std::vector<std::string> read_complete_lines(const std::string& path);
// events.jsonl as JSON, one element a complete line. A line that does not
// parse is a test failure (ADD_FAILURE) and is left out.
std::vector<nlohmann::json> read_events(const std::string& path);
// Polls events.jsonl until an event matches; nullopt at the deadline, or
// once `process` (if given) has exited and the file holds no match.
std::optional<nlohmann::json> wait_for_event(
    const std::string& path, const std::function<bool(const nlohmann::json&)>& match,
    std::chrono::milliseconds timeout, BelayProcess* process = nullptr);
// Polls until `count` events match (same rules); returns those found.
std::vector<nlohmann::json> wait_for_events(const std::string& path,
                                            const std::function<bool(const nlohmann::json&)>& match,
                                            size_t count, std::chrono::milliseconds timeout,
                                            BelayProcess* process = nullptr);

// "2026-11-22T23:05:29.123Z" -> milliseconds since the epoch; nullopt if the
// text is not exactly that shape.
std::optional<int64_t> parse_iso8601_ms(const std::string& text);
int64_t system_now_ms();

// Live (non-zombie) processes, other than `except`, whose command line
// contains `needle`.
std::vector<pid_t> processes_mentioning(const std::string& needle, pid_t except = 0);
// Polls until none is left; returns those still alive at the deadline.
std::vector<pid_t> wait_no_process_mentioning(const std::string& needle,
                                              std::chrono::milliseconds timeout, pid_t except = 0);
// The command line of `pid`, arguments joined by spaces.
std::string cmdline_of(pid_t pid);

}  // namespace belay::test
