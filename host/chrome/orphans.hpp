#pragma once
// Finds and ends the browser processes belay launched for one state
// directory, by the marker in their environment (host_marker.hpp). A
// process without that marker, or with another state directory's, is never
// touched, whatever its name.

#include "chrome/host_marker.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace belay::chrome {

struct MarkedProcess {
  pid_t pid = 0;
  pid_t pgid = 0;
  HostMarker marker;
  bool host_alive = false;
};

// Live processes marked for `state_dir`, this process excluded.
std::vector<MarkedProcess> find_marked_processes(const std::string& state_dir);
// Those whose host is gone: what `belay run` and `belay cleanup` reap.
std::vector<MarkedProcess> find_orphans(const std::string& state_dir);

// SIGTERM (and SIGCONT, for a stopped one) to each, SIGKILL to those still
// there after `grace_ms`. Blocks until they are gone or `grace_ms` more
// has passed; returns the PIDs still alive then (normally none). Zombies
// count as gone: only their parent can reap them.
std::vector<pid_t> end_processes(const std::vector<MarkedProcess>& processes, uint64_t grace_ms);

}  // namespace belay::chrome
