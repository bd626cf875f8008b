#pragma once
// The supervisor's budget of browser restarts for one profile: at most
// max_restarts within any period_ms, else the profile is fatal (a browser
// that keeps dying will not be saved by more restarts). Also the delay
// before a relaunch, which doubles with each launch that failed in a row so
// a browser that cannot start is not hammered.
//
// Times are loop milliseconds passed in by the caller, so the rule can be
// tested without a loop or a browser.

#include "campaign/config.hpp"

#include <cstdint>
#include <deque>
#include <string>

namespace belay::campaign {

class RestartBudget {
 public:
  // The delay grows at most this many doublings: 16 times the configured one.
  static constexpr int kMaxDelayDoublings = 4;

  explicit RestartBudget(SupervisorConfig config) : config_(config) {}

  // Records a restart at `now_ms` if fewer than max_restarts were recorded
  // within the period before it; false is the fatal verdict (nothing is
  // recorded then).
  bool try_spend(uint64_t now_ms);
  // The wait before the next relaunch.
  uint64_t next_delay_ms() const;
  void launch_failed() { ++launch_failures_; }
  void launch_succeeded() { launch_failures_ = 0; }
  // Why try_spend refused, as the `fatal` event and the health row say it.
  std::string fatal_reason() const;

 private:
  SupervisorConfig config_;
  std::deque<uint64_t> restarts_;  // times of the restarts inside the period
  int launch_failures_ = 0;        // in a row
};

}  // namespace belay::campaign
