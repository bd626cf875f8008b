#pragma once
// The preventive restart of a healthy browser between items: after
// soft_restart.items items, after soft_restart.ms of age, or once its
// memory reaches soft_restart.memory_mb. A long-lived Chrome grows and
// slows; restarting it between items costs no item a try. Soft restarts
// count against no restart budget.
//
// Times are loop milliseconds passed in, and the memory is read through a
// function, so the rule can be tested without a loop or a browser.

#include "campaign/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace belay::campaign {

enum class SoftRestartReason { items, age, memory };

// The `reason` of the `soft_restart` event: "items", "age", "memory".
std::string_view name(SoftRestartReason reason);

class SoftRestart {
 public:
  struct Due {
    SoftRestartReason reason;
    // The figures the event carries for this reason ({memory_mb, cap_mb}
    // for memory), an empty object otherwise.
    nlohmann::json params = nlohmann::json::object();
  };
  // The memory of the browser's process group, in MB.
  using MemoryReader = std::function<uint64_t()>;

  // Memory is read at most once per `memory_interval_ms`.
  SoftRestart(SoftRestartConfig config, uint64_t memory_interval_ms)
      : config_(config), memory_interval_ms_(memory_interval_ms) {}

  // A browser was launched: its item count and age start again.
  void launched(uint64_t now_ms) {
    launched_at_ = now_ms;
    items_ = 0;
  }
  void item_ended() { ++items_; }
  uint64_t items_since_launch() const { return items_; }
  uint64_t age_ms(uint64_t now_ms) const { return now_ms - launched_at_; }

  // The soft restart due now, if any. `read_memory_mb` is empty when there
  // is no browser process to read (an attached browser); it is called only
  // when a memory cap is set and a reading is due.
  std::optional<Due> due(uint64_t now_ms, const MemoryReader& read_memory_mb);

 private:
  SoftRestartConfig config_;
  uint64_t memory_interval_ms_;
  uint64_t launched_at_ = 0;
  uint64_t items_ = 0;
  uint64_t memory_checked_at_ = 0;  // 0: never read
};

}  // namespace belay::campaign
