#include "campaign/restart_history.hpp"

namespace belay::campaign {

void RestartHistory::record(uint64_t now_ms) {
  restarts_.push_back(now_ms);
  while (restarts_.size() > kKept) restarts_.pop_front();
}

nlohmann::json RestartHistory::ms_ago(uint64_t now_ms) const {
  nlohmann::json ago = nlohmann::json::array();
  for (auto it = restarts_.rbegin(); it != restarts_.rend(); ++it) ago.push_back(now_ms - *it);
  return ago;
}

}  // namespace belay::campaign
