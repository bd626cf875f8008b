#pragma once
// The marker every browser belay launches carries in its environment, and
// that its helpers inherit (though renderers, GPU and utility processes
// overwrite what /proc/PID/environ shows, so only the browser process can
// be relied on to show it): which host started
// it (PID and that process's start time, so a reused PID is not mistaken
// for the host), for which state directory and profile. Orphan reaping and
// `belay cleanup` find belay's browsers by this marker, never by name.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace belay::chrome {

struct HostMarker {
  pid_t host_pid = 0;
  uint64_t host_start_time = 0;  // clock ticks after boot (/proc/PID/stat field 22)
  std::string state_dir;         // canonical
  std::string profile;
};

// The environment variables that mark a browser launched by this process.
std::vector<std::pair<std::string, std::string>> marker_env(const std::string& state_dir,
                                                            const std::string& profile);
// True for the names marker_env() sets: a browser's environment must not
// inherit them from belay's own.
bool is_marker_variable(const std::string& name);

// The marker in /proc/PID/environ, if the process has one.
std::optional<HostMarker> read_marker(pid_t pid);
// Whether the host named by a marker is still running: same PID, same start.
bool host_alive(const HostMarker& marker);

// Field 22 of /proc/PID/stat, or 0 when the process is gone.
uint64_t process_start_time(pid_t pid);
// The form of a state directory that markers carry and compare.
std::string canonical_state_dir(const std::string& state_dir);

}  // namespace belay::chrome
