#pragma once
// Ending belay's own leftover browsers for one state directory: what
// `belay cleanup` does, and what `belay run` does first.

#include "campaign/event_log.hpp"
#include "chrome/orphans.hpp"

#include <string>
#include <vector>

namespace belay::campaign {

struct CleanupReport {
  std::vector<chrome::MarkedProcess> killed;
  std::vector<pid_t> survived;  // still alive after SIGKILL and its grace
  int64_t requeued = 0;         // running items put back to pending
};

// Orphans only (their host is gone), or with `emergency` every browser
// belay launched for the state, and their running items back to pending.
CleanupReport clean_state(const std::string& state_dir, bool emergency);
// The `cleanup` event for the report (written only when something was
// found, unless `always`).
void log_cleanup(EventLog& events, const CleanupReport& report, bool emergency, bool always);
// "killed PID (profile P, host H gone)" lines.
std::string describe(const CleanupReport& report);

}  // namespace belay::campaign
