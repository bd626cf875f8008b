#include "vm/task_scope.hpp"

namespace belay::lua {

uint64_t TaskScope::on_end(std::function<void()> undo) {
  if (ended_) {
    undo();
    return 0;
  }
  const uint64_t id = next_id_++;
  undo_.emplace(id, std::move(undo));
  return id;
}

void TaskScope::drop(uint64_t id) { undo_.erase(id); }

void TaskScope::end() {
  if (ended_) return;
  ended_ = true;
  // An undo may drop others or register more (which then run at once).
  while (!undo_.empty()) {
    auto last = std::prev(undo_.end());
    std::function<void()> undo = std::move(last->second);
    undo_.erase(last);
    undo();
  }
}

}  // namespace belay::lua
