#include "campaign/browser_wear.hpp"

namespace belay::campaign {

std::optional<uint64_t> BrowserWear::memory_mb(uint64_t now_ms,
                                               const MemoryReader& read_memory_mb) {
  // Reading the memory of a browser's processes costs the kernel a walk of
  // their address spaces (tens of ms for a busy Chrome): it is a health
  // check, so it runs at most once per interval.
  const bool due = memory_checked_at_ == 0 || now_ms - memory_checked_at_ >= memory_interval_ms_;
  if (read_memory_mb && due) {
    memory_checked_at_ = now_ms == 0 ? 1 : now_ms;
    memory_mb_ = read_memory_mb();
  }
  return memory_mb_;
}

}  // namespace belay::campaign
