#pragma once
// How much memory a browser holds: the sum over its process group of each
// process's proportional set size (shared pages split among their users,
// so a renderer's share of the browser's libraries is not counted twice).

#include <sys/types.h>

#include <cstdint>

namespace belay::chrome {

// KiB; 0 when the group is gone. Falls back to the resident set when the
// kernel has no smaps_rollup.
uint64_t group_memory_kb(pid_t pgid);
uint64_t process_memory_kb(pid_t pid);

}  // namespace belay::chrome
