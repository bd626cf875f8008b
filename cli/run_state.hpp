#pragma once
// What `belay run` holds on its state directory for the whole run: the lock
// that makes it the only run there, the events log and the store. Opening it
// also ends the browsers a dead host left behind.

#include "campaign/event_log.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

#include <memory>
#include <string>

namespace belay::cli {

// One run per state: a second would put the first one's items in flight
// back to pending and run them again. The lock is flock on the state
// directory itself, so it goes with the host however the host ends; CLOEXEC
// keeps it out of the browsers (a websocket browser may outlive its host).
class StateLock {
 public:
  explicit StateLock(const std::string& dir);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

struct RunState {
  std::unique_ptr<StateLock> lock;
  std::unique_ptr<campaign::EventLog> events;
  std::unique_ptr<store::Store> store;
};

// Creates STATE (private: profiles and events may hold private data), locks
// it, opens events.jsonl and belay.db, and ends a dead host's browsers. An
// error's message is for stderr; the run then exits 2, the state untouched.
Result<RunState> open_run_state(const std::string& state_dir);

}  // namespace belay::cli
