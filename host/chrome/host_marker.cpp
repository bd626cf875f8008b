#include "chrome/host_marker.hpp"

#include "chrome/proc_table.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace belay::chrome {
namespace {

constexpr const char* kHostVar = "BELAY_HOST";
constexpr const char* kStateVar = "BELAY_STATE";
constexpr const char* kProfileVar = "BELAY_PROFILE";

}  // namespace

uint64_t process_start_time(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(file, line)) return 0;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  // After the command name: state is field 3, starttime field 22.
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22; ++i) {
    if (!(rest >> field)) return 0;
  }
  uint64_t start = 0;
  rest >> start;
  return start;
}

std::string canonical_state_dir(const std::string& state_dir) {
  std::error_code ec;
  auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(state_dir, ec), ec);
  if (ec) return std::filesystem::absolute(state_dir).lexically_normal().string();
  std::string out = path.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::vector<std::pair<std::string, std::string>> marker_env(const std::string& state_dir,
                                                            const std::string& profile) {
  const pid_t self = ::getpid();
  return {{kHostVar, std::to_string(self) + ":" + std::to_string(process_start_time(self))},
          {kStateVar, canonical_state_dir(state_dir)},
          {kProfileVar, profile}};
}

bool is_marker_variable(const std::string& name) {
  return name == kHostVar || name == kStateVar || name == kProfileVar;
}

std::optional<HostMarker> read_marker(pid_t pid) {
  HostMarker marker;
  bool has_host = false;
  bool has_state = false;
  for (const std::string& entry : read_proc_strings(pid, "environ")) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = entry.substr(0, eq);
    const std::string value = entry.substr(eq + 1);
    if (name == kHostVar) {
      const size_t colon = value.find(':');
      if (colon == std::string::npos) return std::nullopt;
      char* end = nullptr;
      const long host = std::strtol(value.c_str(), &end, 10);
      if (end != value.c_str() + colon || host <= 0) return std::nullopt;
      marker.host_pid = static_cast<pid_t>(host);
      marker.host_start_time = std::strtoull(value.c_str() + colon + 1, &end, 10);
      has_host = true;
    } else if (name == kStateVar) {
      marker.state_dir = value;
      has_state = !value.empty();
    } else if (name == kProfileVar) {
      marker.profile = value;
    }
  }
  if (!has_host || !has_state) return std::nullopt;
  return marker;
}

bool host_alive(const HostMarker& marker) {
  auto info = read_proc(marker.host_pid);
  if (!info || info->state == 'Z') return false;
  return process_start_time(marker.host_pid) == marker.host_start_time;
}

}  // namespace belay::chrome
