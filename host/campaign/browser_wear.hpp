#pragma once
// How worn one profile's browser is, as the policy's soft restart decision
// is told between items: items since it was launched, its age, and its
// memory (proportional set size summed over its process group). A
// long-lived Chrome grows and slows; when to restart it is the policy's.
//
// Times are loop milliseconds passed in, and the memory is read through a
// function, so the record can be tested without a loop or a browser.

#include <cstdint>
#include <functional>
#include <optional>

namespace belay::campaign {

class BrowserWear {
 public:
  // The memory of the browser's process group, in MB.
  using MemoryReader = std::function<uint64_t()>;

  // Memory is read at most once per `memory_interval_ms`.
  explicit BrowserWear(uint64_t memory_interval_ms) : memory_interval_ms_(memory_interval_ms) {}

  // A browser was launched: its item count, age and memory start again.
  void launched(uint64_t now_ms) {
    launched_at_ = now_ms;
    items_ = 0;
    memory_mb_.reset();
    memory_checked_at_ = 0;
  }
  void item_ended() { ++items_; }
  uint64_t items_since_launch() const { return items_; }
  uint64_t age_ms(uint64_t now_ms) const { return now_ms - launched_at_; }

  // The browser's memory: read now when a reading is due, else the last
  // reading of this browser; none when there is no process to read (an
  // attached browser, `read_memory_mb` empty) or never read.
  std::optional<uint64_t> memory_mb(uint64_t now_ms, const MemoryReader& read_memory_mb);

 private:
  uint64_t memory_interval_ms_;
  uint64_t launched_at_ = 0;
  uint64_t items_ = 0;
  std::optional<uint64_t> memory_mb_;
  uint64_t memory_checked_at_ = 0;  // 0: never read
};

}  // namespace belay::campaign
