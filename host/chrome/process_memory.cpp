#include "chrome/process_memory.hpp"

#include "chrome/proc_table.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace belay::chrome {

uint64_t process_memory_kb(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream rollup(dir + "/smaps_rollup");
  std::string line;
  while (std::getline(rollup, line)) {
    if (line.compare(0, 4, "Pss:") == 0) {
      std::istringstream fields(line.substr(4));
      uint64_t kb = 0;
      if (fields >> kb) return kb;
    }
  }
  std::ifstream statm(dir + "/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

uint64_t group_memory_kb(pid_t pgid) {
  uint64_t total = 0;
  for (pid_t pid : live_group_members(pgid)) total += process_memory_kb(pid);
  return total;
}

}  // namespace belay::chrome
