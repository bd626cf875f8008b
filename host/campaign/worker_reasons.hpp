#pragma once
// Why a profile's browser is restarted or the profile paused. Each reason's
// name is the text the events (`restarting`, `pause`) and the health row
// carry; tests, docs/operations.md and operators' tools match on it, so a
// name must not change. An enum rather than a string so that every place
// that tells reasons apart is checked by the compiler.

#include <string>
#include <string_view>

namespace belay::campaign {

enum class RestartReason {
  disconnected,   // the browser exited or its connection dropped
  hung,           // it missed a heartbeat
  launch_failed,  // its relaunch failed
  script,         // ctx:restart_browser()
  soft,           // preventive, between items: counts against no budget
};

enum class PauseReason {
  persisted,     // stored by an earlier run, honoured at start
  error_streak,  // past pause.max_error_streak
  script,        // ctx:pause_profile(ms)
  by_operator,   // belay attach (`operator` is a C++ keyword)
};

std::string_view name(RestartReason reason);
std::string_view name(PauseReason reason);

// The same as a string, for event params (inside ProfileWorker a bare
// name() would find the member first).
template <typename Reason>
std::string reason_text(Reason reason) {
  return std::string(name(reason));
}

}  // namespace belay::campaign
