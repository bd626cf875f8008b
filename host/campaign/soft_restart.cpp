#include "campaign/soft_restart.hpp"

namespace belay::campaign {

std::string_view name(SoftRestartReason reason) {
  switch (reason) {
    case SoftRestartReason::items:
      return "items";
    case SoftRestartReason::age:
      return "age";
    case SoftRestartReason::memory:
      return "memory";
  }
  return "?";
}

std::optional<SoftRestart::Due> SoftRestart::due(uint64_t now_ms,
                                                 const MemoryReader& read_memory_mb) {
  if (config_.items > 0 && items_ >= config_.items) return Due{SoftRestartReason::items};
  if (config_.ms > 0 && now_ms - launched_at_ >= config_.ms) return Due{SoftRestartReason::age};
  // Reading the memory of a browser's processes costs the kernel a walk of
  // their address spaces (tens of ms for a busy Chrome): it is a health
  // check, so it runs at most once per interval.
  const bool memory_check_due =
      memory_checked_at_ == 0 || now_ms - memory_checked_at_ >= memory_interval_ms_;
  if (config_.memory_mb == 0 || !read_memory_mb || !memory_check_due) return std::nullopt;
  memory_checked_at_ = now_ms;
  const uint64_t mb = read_memory_mb();
  if (mb < config_.memory_mb) return std::nullopt;
  return Due{SoftRestartReason::memory, {{"memory_mb", mb}, {"cap_mb", config_.memory_mb}}};
}

}  // namespace belay::campaign
