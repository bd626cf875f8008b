#pragma once
// Reads the process table from /proc. belay finds its browsers by what it
// put on them (process group, user-data-dir, environment marker), never by
// name.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace belay::chrome {

struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  char state = '?';  // 'Z' for a zombie
};

std::optional<ProcInfo> read_proc(pid_t pid);
std::vector<ProcInfo> list_processes();
// Live (non-zombie) members of a process group.
std::vector<pid_t> live_group_members(pid_t pgid);
// One NUL-separated file of /proc/PID (cmdline, environ) as strings.
std::vector<std::string> read_proc_strings(pid_t pid, const char* file);

}  // namespace belay::chrome
