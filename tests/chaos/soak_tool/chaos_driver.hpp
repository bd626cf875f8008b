#pragma once
// The chaos of the soak's first mode, done to a running host's browsers by
// PID only: each target is taken from the host's own browser_launch events
// and checked to be alive and to carry this state's and this host's marker
// (chrome/host_marker.hpp) before it is touched; a renderer must be in such
// a browser's process group and name its user-data-dir.
//
//   kill_browser   SIGKILL a profile's browser;
//   stop_browser   SIGSTOP it past the heartbeat timeout (the supervisor
//                  must call it hung and replace it);
//   kill_renderer  SIGKILL the tab's renderer (a crashed tab);
//   stop_renderer  SIGSTOP the tab's renderer: its Runtime.evaluate calls
//                  and page heartbeats get no answer (a hung response).
// A stopped process gets SIGCONT when its hold is over, and only if it is
// still the same process (same start time); usually belay has ended it.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "event_tail.hpp"
#include "rng.hpp"

namespace belay::soak {

struct ChaosTiming {
  uint64_t min_gap_ms = 1000;  // between two actions
  uint64_t max_gap_ms = 3000;
  uint64_t hold_ms = 8000;  // how long a stopped process stays stopped
};

class ChaosDriver {
 public:
  using Log = std::function<void(const std::string&)>;
  ChaosDriver(std::string state_dir, std::vector<std::string> profiles, Rng rng, ChaosTiming timing,
              Log log);

  // Called every few ms while the host runs: takes the next action when it
  // is due and resumes the processes whose hold is over.
  void tick(pid_t host_pid, const EventTail& events);
  // Resumes every process still held (the run is over, or the soak gives up).
  void release_all();

  // Actions done, and those skipped for want of a live target, by kind.
  const std::map<std::string, int>& done() const { return done_; }
  const std::map<std::string, int>& skipped() const { return skipped_; }
  // Held processes resumed by the soak, and those belay had ended first.
  int resumed() const { return resumed_; }
  int ended_while_held() const { return ended_while_held_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Target {
    pid_t pid = 0;
    uint64_t start_time = 0;
  };
  struct Held {
    Target target;
    std::string what;
    Clock::time_point until;
  };

  void act(pid_t host_pid, const EventTail& events);
  bool ours(pid_t pid, pid_t host_pid) const;
  Target browser_of(const std::string& profile, pid_t host_pid, const EventTail& events) const;
  Target renderer_of(pid_t browser);
  bool held(pid_t pid) const;
  void release_due(bool all);

  std::string state_dir_;  // canonical, as markers carry it
  std::vector<std::string> profiles_;
  Rng rng_;
  ChaosTiming timing_;
  Log log_;
  Clock::time_point next_at_;
  std::vector<Held> held_;
  std::map<std::string, int> done_;
  std::map<std::string, int> skipped_;
  int resumed_ = 0;
  int ended_while_held_ = 0;
};

}  // namespace belay::soak
