#include "chrome/proc_table.hpp"

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace belay::chrome {

std::optional<ProcInfo> read_proc(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  // The command name sits in parentheses and may itself hold spaces or ')',
  // so parse from the last ')'.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcInfo info;
  info.pid = pid;
  long ppid = 0;
  long pgid = 0;
  if (!(rest >> info.state >> ppid >> pgid)) return std::nullopt;
  info.ppid = static_cast<pid_t>(ppid);
  info.pgid = static_cast<pid_t>(pgid);
  return info;
}

std::vector<ProcInfo> list_processes() {
  std::vector<ProcInfo> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    if (auto info = read_proc(static_cast<pid_t>(pid))) out.push_back(*info);
  }
  closedir(dir);
  return out;
}

std::vector<pid_t> live_group_members(pid_t pgid) {
  std::vector<pid_t> members;
  for (const auto& p : list_processes()) {
    if (p.pgid == pgid && p.state != 'Z') members.push_back(p.pid);
  }
  return members;
}

std::vector<std::string> read_proc_strings(pid_t pid, const char* file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file, std::ios::binary);
  std::vector<std::string> out;
  std::string item;
  while (std::getline(in, item, '\0')) out.push_back(item);
  return out;
}

}  // namespace belay::chrome
