#pragma once
// What the supervisor policy is told about one profile's browser restarts:
// when the restarts of this run happened and how many launches failed in a
// row. The rule that turns these facts into "restart after N ms" or
// "fatal" is the policy's (scripts/belay/supervisor.lua by default).
//
// Times are loop milliseconds passed in by the caller, so the record can be
// tested without a loop or a browser.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>

namespace belay::campaign {

class RestartHistory {
 public:
  // The oldest restarts are forgotten past this many: a budget counts
  // restarts within a period, and no sane one counts more.
  static constexpr size_t kKept = 1000;

  void record(uint64_t now_ms);
  // How long ago each restart of this run was, newest first.
  nlohmann::json ms_ago(uint64_t now_ms) const;
  void launch_failed() { ++launch_failures_; }
  void launch_succeeded() { launch_failures_ = 0; }
  int launch_failures() const { return launch_failures_; }

 private:
  std::deque<uint64_t> restarts_;  // loop ms, oldest first
  int launch_failures_ = 0;        // in a row
};

}  // namespace belay::campaign
