#include "campaign/worker_reasons.hpp"

namespace belay::campaign {

// No default: a new reason must be given its name here.
std::string_view name(RestartReason reason) {
  switch (reason) {
    case RestartReason::disconnected:
      return "disconnected";
    case RestartReason::hung:
      return "hung";
    case RestartReason::launch_failed:
      return "launch failed";
    case RestartReason::script:
      return "script";
    case RestartReason::soft:
      return "soft";
  }
  return "?";
}

std::string_view name(PauseReason reason) {
  switch (reason) {
    case PauseReason::persisted:
      return "persisted";
    case PauseReason::error_streak:
      return "error_streak";
    case PauseReason::script:
      return "script";
    case PauseReason::by_operator:
      return "operator";
  }
  return "?";
}

}  // namespace belay::campaign
