#include "chaos_driver.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "chrome/host_marker.hpp"
#include "chrome/proc_table.hpp"

namespace belay::soak {
namespace {

// Out of 10: how often each action is picked.
struct Weighted {
  const char* kind;
  uint64_t weight;
};
constexpr Weighted kActions[] = {
    {"kill_browser", 3}, {"stop_browser", 2}, {"kill_renderer", 3}, {"stop_renderer", 2}};

// A skipped action (the browser was down) is tried again this soon.
constexpr uint64_t kRetryGapMs = 300;

const char* pick(Rng& rng) {
  uint64_t total = 0;
  for (const auto& a : kActions) total += a.weight;
  uint64_t r = rng.below(total);
  for (const auto& a : kActions) {
    if (r < a.weight) return a.kind;
    r -= a.weight;
  }
  return kActions[0].kind;
}

// The words of a process's command line. Chromium's helpers rewrite theirs
// as one string (setproctitle), so words are split on spaces as well.
std::vector<std::string> cmdline_words(pid_t pid) {
  std::vector<std::string> words;
  for (const auto& arg : chrome::read_proc_strings(pid, "cmdline")) {
    size_t start = 0;
    for (size_t space = arg.find(' ');; space = arg.find(' ', start)) {
      if (space != start) words.push_back(arg.substr(start, space - start));
      if (space == std::string::npos) break;
      start = space + 1;
    }
  }
  return words;
}

// The --user-data-dir=… word of a process, or "".
std::string user_data_dir_arg(pid_t pid) {
  for (const auto& word : cmdline_words(pid)) {
    if (word.rfind("--user-data-dir=", 0) == 0) return word;
  }
  return "";
}

// A renderer of a page (not of the browser's own WebUI) with this
// user-data-dir.
bool is_page_renderer_of(pid_t pid, const std::string& user_data_dir) {
  bool renderer = false;
  bool same_profile = false;
  for (const auto& word : cmdline_words(pid)) {
    if (word == "--top-chrome-webui") return false;
    renderer = renderer || word == "--type=renderer";
    same_profile = same_profile || word == user_data_dir;
  }
  return renderer && same_profile;
}

// utime + stime from /proc/PID/stat, in clock ticks; 0 when it is gone.
uint64_t cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  uint64_t ticks = 0;
  // After the name: state is field 3, utime 14, stime 15.
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n >= 14) ticks += std::strtoull(field.c_str(), nullptr, 10);
  }
  return ticks;
}

}  // namespace

ChaosDriver::ChaosDriver(std::string state_dir, std::vector<std::string> profiles, Rng rng,
                         ChaosTiming timing, Log log)
    : state_dir_(chrome::canonical_state_dir(state_dir)),
      profiles_(std::move(profiles)),
      rng_(rng),
      timing_(timing),
      log_(std::move(log)) {
  next_at_ = Clock::now() +
             std::chrono::milliseconds(rng_.between(timing_.min_gap_ms, timing_.max_gap_ms));
}

bool ChaosDriver::ours(pid_t pid, pid_t host_pid) const {
  if (pid <= 0) return false;
  const auto info = chrome::read_proc(pid);
  if (!info || info->state == 'Z') return false;
  const auto marker = chrome::read_marker(pid);
  return marker && marker->state_dir == state_dir_ && marker->host_pid == host_pid;
}

bool ChaosDriver::held(pid_t pid) const {
  return std::any_of(held_.begin(), held_.end(),
                     [pid](const Held& h) { return h.target.pid == pid; });
}

ChaosDriver::Target ChaosDriver::browser_of(const std::string& profile, pid_t host_pid,
                                            const EventTail& events) const {
  const pid_t pid = events.latest_launch(profile);
  if (!ours(pid, host_pid) || held(pid)) return {};
  const auto info = chrome::read_proc(pid);
  // A browser leads its own process group (setsid).
  if (!info || info->pgid != pid) return {};
  return {pid, chrome::process_start_time(pid)};
}

// Chromium rewrites its helpers' argv and environ area (setproctitle), so
// a renderer's /proc/PID/environ no longer shows belay's marker: a renderer
// is taken as ours when it is in the process group of a browser that has
// the marker and names the same --user-data-dir (the profile's, under the
// soak's own state directory). Of those, the one that has used the most CPU
// is the tab's: same-site navigations keep their process, while a spare
// renderer waiting for the next tab has done next to nothing.
ChaosDriver::Target ChaosDriver::renderer_of(pid_t browser) {
  const std::string user_data_dir = user_data_dir_arg(browser);
  if (user_data_dir.empty()) return {};
  pid_t busiest = 0;
  uint64_t most = 0;
  for (pid_t pid : chrome::live_group_members(browser)) {
    if (pid == browser || held(pid) || !is_page_renderer_of(pid, user_data_dir)) continue;
    const uint64_t ticks = cpu_ticks(pid);
    if (busiest == 0 || ticks > most) {
      busiest = pid;
      most = ticks;
    }
  }
  if (busiest == 0) return {};
  return {busiest, chrome::process_start_time(busiest)};
}

void ChaosDriver::tick(pid_t host_pid, const EventTail& events) {
  release_due(false);
  if (Clock::now() >= next_at_) act(host_pid, events);
}

void ChaosDriver::act(pid_t host_pid, const EventTail& events) {
  const std::string kind = pick(rng_);
  const std::string& profile = profiles_[rng_.below(profiles_.size())];
  const uint64_t gap = rng_.between(timing_.min_gap_ms, timing_.max_gap_ms);
  Target target = browser_of(profile, host_pid, events);
  const bool on_renderer = kind == "kill_renderer" || kind == "stop_renderer";
  if (target.pid != 0 && on_renderer) target = renderer_of(target.pid);
  if (target.pid == 0) {
    ++skipped_[kind];
    next_at_ = Clock::now() + std::chrono::milliseconds(kRetryGapMs);
    return;
  }
  const bool stop = kind == "stop_browser" || kind == "stop_renderer";
  if (::kill(target.pid, stop ? SIGSTOP : SIGKILL) != 0) {
    ++skipped_[kind];
    next_at_ = Clock::now() + std::chrono::milliseconds(kRetryGapMs);
    return;
  }
  ++done_[kind];
  const std::string what = kind + " " + profile + " pid " + std::to_string(target.pid);
  if (stop) {
    held_.push_back({target, what, Clock::now() + std::chrono::milliseconds(timing_.hold_ms)});
  }
  log_("chaos: " + what);
  next_at_ = Clock::now() + std::chrono::milliseconds(gap);
}

void ChaosDriver::release_due(bool all) {
  const auto now = Clock::now();
  for (auto it = held_.begin(); it != held_.end();) {
    if (!all && now < it->until) {
      ++it;
      continue;
    }
    // Same PID and same start time: still the process the soak stopped.
    const auto info = chrome::read_proc(it->target.pid);
    if (info && info->state != 'Z' &&
        chrome::process_start_time(it->target.pid) == it->target.start_time) {
      ::kill(it->target.pid, SIGCONT);
      ++resumed_;
      log_("chaos: resumed " + it->what + " (still there)");
    } else {
      ++ended_while_held_;
    }
    it = held_.erase(it);
  }
}

void ChaosDriver::release_all() { release_due(true); }

}  // namespace belay::soak
