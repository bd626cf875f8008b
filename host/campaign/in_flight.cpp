#include "campaign/in_flight.hpp"

namespace belay::campaign {

void InFlight::event(const std::string& name, const nlohmann::json& params,
                     const std::string& outcome, std::optional<uint64_t> dur_ms) {
  if (ended_) return;
  run_.events.write(
      Event{name, worker_.name(), worker_.session_id(), key_, params, outcome, dur_ms});
}

int InFlight::begin_try() {
  if (ended_) return 0;
  // The first try was counted when the item was marked running.
  if (tries_++ > 0) {
    ++attempts_;
    if (auto e = run_.store.save_attempts(key_, attempts_)) {
      run_.store_failed(*e);
      return 0;
    }
  }
  return attempts_;
}

std::optional<Error> InFlight::checkpoint(const nlohmann::json& saved) {
  if (ended_) return Error{Kind::cancelled, "the item has ended", "checkpoint", {}};
  return run_.store.save_checkpoint(key_, saved);
}

}  // namespace belay::campaign
