#include "campaign/restart_budget.hpp"

#include <algorithm>

namespace belay::campaign {

bool RestartBudget::try_spend(uint64_t now_ms) {
  // A restart exactly period_ms ago is out of the period.
  while (!restarts_.empty() && now_ms - restarts_.front() >= config_.period_ms) {
    restarts_.pop_front();
  }
  if (static_cast<int>(restarts_.size()) >= config_.max_restarts) return false;
  restarts_.push_back(now_ms);
  return true;
}

uint64_t RestartBudget::next_delay_ms() const {
  return config_.delay_ms << std::min(launch_failures_, kMaxDelayDoublings);
}

std::string RestartBudget::fatal_reason() const {
  return std::to_string(config_.max_restarts) + " restarts within " +
         std::to_string(config_.period_ms) + " ms";
}

}  // namespace belay::campaign
