#include "run_state.hpp"

#include "campaign/state_cleanup.hpp"
#include "core/private_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace belay::cli {

StateLock::StateLock(const std::string& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) {
    error_ = "cannot open " + dir + ": " + std::strerror(errno);
  } else if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    error_ = errno == EWOULDBLOCK ? dir + " is in use by another belay run (belay attach --state " +
                                        dir + " reaches it)"
                                  : "cannot lock " + dir + ": " + std::strerror(errno);
  }
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<RunState> open_run_state(const std::string& state_dir) {
  auto fail = [](std::string message) { return Error{Kind::config, std::move(message), "", {}}; };
  for (const std::string& dir : {state_dir, state_dir + "/screenshots"}) {
    if (auto error = make_private_dirs(dir)) return fail(*error);
  }
  RunState state;
  state.lock = std::make_unique<StateLock>(state_dir);
  if (!state.lock->error().empty()) return fail(state.lock->error());
  state.events = std::make_unique<campaign::EventLog>(state_dir + "/events.jsonl", "");
  if (!state.events->ok()) return fail(state.events->error());
  // The store is checked before anything else runs: a corrupt or foreign
  // state stops the run here, untouched.
  auto store = store::open_sqlite_store(state_dir);
  if (!store) return fail(store.error().message);
  state.store = std::move(store.value());
  // A host that died (SIGKILL, a power cut) may have left its browsers
  // running, holding the profiles' directories: end them before this run
  // launches its own. Only marked browsers of this state whose host is gone.
  const campaign::CleanupReport reaped = campaign::clean_state(state_dir, false);
  if (!reaped.killed.empty()) {
    std::fprintf(stderr, "belay: ended the browsers of a host that is gone:\n%s",
                 campaign::describe(reaped).c_str());
  }
  campaign::log_cleanup(*state.events, reaped, false, false);
  return Result<RunState>(std::move(state));
}

}  // namespace belay::cli
