#include "chrome/child_reaper.hpp"

#include "chrome/proc_table.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <mutex>
#include <set>

namespace belay::chrome {
namespace {

std::mutex claimed_mutex;
std::set<pid_t>& claimed() {
  static std::set<pid_t> pids;
  return pids;
}

bool is_claimed(pid_t pid) {
  std::lock_guard<std::mutex> lock(claimed_mutex);
  return claimed().count(pid) != 0;
}

}  // namespace

void claim_child(pid_t pid) {
  std::lock_guard<std::mutex> lock(claimed_mutex);
  claimed().insert(pid);
}

void release_child(pid_t pid) {
  std::lock_guard<std::mutex> lock(claimed_mutex);
  claimed().erase(pid);
}

ChildReaper::ChildReaper(uv_loop_t* loop) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  uv_signal_init(loop, sigchld_.get());
  sigchld_->data = this;
  uv_signal_start(
      sigchld_.get(),
      [](uv_signal_t* s, int) {
        if (s->data != nullptr) static_cast<ChildReaper*>(s->data)->reap();
      },
      SIGCHLD);
  // Keeps no loop alive by itself: the run ends when its work does.
  uv_unref(sigchld_.as_handle());
}

ChildReaper::~ChildReaper() = default;

int ChildReaper::reap() {
  const pid_t self = ::getpid();
  int reaped = 0;
  for (const ProcInfo& p : list_processes()) {
    if (p.ppid != self || p.state != 'Z' || is_claimed(p.pid)) continue;
    int status = 0;
    if (::waitpid(p.pid, &status, WNOHANG) == p.pid) ++reaped;
  }
  return reaped;
}

}  // namespace belay::chrome
