#include "chrome/orphans.hpp"

#include "chrome/proc_table.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace belay::chrome {
namespace {

bool gone(pid_t pid) {
  auto info = read_proc(pid);
  return !info || info->state == 'Z';
}

// Waits until every PID is gone or the deadline passes; returns those left.
std::vector<pid_t> wait_gone(std::vector<pid_t> pids, std::chrono::steady_clock::time_point until) {
  while (true) {
    std::vector<pid_t> left;
    for (pid_t pid : pids) {
      if (!gone(pid)) left.push_back(pid);
    }
    if (left.empty() || std::chrono::steady_clock::now() >= until) return left;
    pids = std::move(left);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::vector<MarkedProcess> find_marked_processes(const std::string& state_dir) {
  const std::string wanted = canonical_state_dir(state_dir);
  const pid_t self = ::getpid();
  std::vector<MarkedProcess> out;
  for (const ProcInfo& p : list_processes()) {
    if (p.pid == self || p.state == 'Z') continue;
    auto marker = read_marker(p.pid);
    if (!marker || marker->state_dir != wanted) continue;
    MarkedProcess process;
    process.pid = p.pid;
    process.pgid = p.pgid;
    process.marker = *marker;
    process.host_alive = host_alive(*marker);
    out.push_back(std::move(process));
  }
  return out;
}

std::vector<MarkedProcess> find_orphans(const std::string& state_dir) {
  std::vector<MarkedProcess> orphans;
  for (auto& p : find_marked_processes(state_dir)) {
    if (!p.host_alive) orphans.push_back(std::move(p));
  }
  return orphans;
}

std::vector<pid_t> end_processes(const std::vector<MarkedProcess>& processes, uint64_t grace_ms) {
  std::vector<pid_t> pids;
  for (const auto& p : processes) {
    // Signalled one by one, not by group: only marked processes are ours.
    // The marker is read again first: the process may have ended and its
    // PID gone to another since it was found.
    auto marker = read_marker(p.pid);
    if (!marker || marker->state_dir != p.marker.state_dir ||
        marker->host_pid != p.marker.host_pid) {
      continue;
    }
    if (::kill(p.pid, SIGTERM) == 0) {
      ::kill(p.pid, SIGCONT);
      pids.push_back(p.pid);
    }
  }
  const auto grace = std::chrono::milliseconds(grace_ms);
  std::vector<pid_t> left = wait_gone(pids, std::chrono::steady_clock::now() + grace);
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  return wait_gone(left, std::chrono::steady_clock::now() + grace);
}

}  // namespace belay::chrome
