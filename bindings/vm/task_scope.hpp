#pragma once
// What outlives one call but not the task that made it: a script's event
// subscriptions and the handler tasks they start. A task the host starts (an
// item, a console line, a snippet) opens a scope; tasks it starts for the
// script (event handlers) share it. When the host's task ends, so does its
// scope: what was registered on it is undone, newest first, and tasks still
// inside it are cancelled.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace belay::lua {

class TaskScope {
 public:
  TaskScope() = default;
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;
  ~TaskScope() { end(); }

  // Runs `undo` when the scope ends (at once if it already has); returns an
  // id for drop().
  uint64_t on_end(std::function<void()> undo);
  // Forgets an undo that is no longer needed (a page:off before the end).
  void drop(uint64_t id);
  // Ends the scope: every undo runs once, newest first. Idempotent.
  void end();
  bool ended() const { return ended_; }

 private:
  std::map<uint64_t, std::function<void()>> undo_;
  uint64_t next_id_ = 1;
  bool ended_ = false;
};

}  // namespace belay::lua
