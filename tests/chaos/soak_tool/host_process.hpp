#pragma once
// One `belay` host run by the soak: spawned with its output in files of
// the soak's directory, watched, and killed by its PID only. The binary is
// a parameter (--belay), which is why this is not BelayProcess.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace belay::soak {

class HostProcess {
 public:
  // Runs `binary args…` with stdout/stderr in `log_prefix`.out/.err.
  HostProcess(const std::string& binary, const std::vector<std::string>& args,
              const std::string& log_prefix);
  // Kills (SIGKILL, by PID) and reaps a host that still runs.
  ~HostProcess();
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reaps it if it exited; true while it runs.
  bool running();
  // True once it exited within `timeout`.
  bool wait_for_exit(std::chrono::milliseconds timeout);
  void signal(int sig);
  // SIGKILL and reap.
  void kill_now();

  // The exit status, or -1 when a signal ended it (term_signal()).
  int exit_code() const { return exit_code_; }
  int term_signal() const { return term_signal_; }
  std::string describe_exit() const;
  // The last `lines` lines of its stderr.
  std::string err_tail(size_t lines) const;

 private:
  void reap(int status);

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
  std::string err_path_;
};

}  // namespace belay::soak
