#pragma once
// Makes belay the subreaper of everything it starts. A browser's helpers
// (zygote, renderers, the crashpad handler, which leaves the browser's
// process group) are re-parented to belay instead of to init when their
// parent dies, so they stay findable as belay's descendants, and belay
// reaps them: no zombie is left behind even where init does not reap.
//
// Children that a libuv process handle owns are claimed (claim_child) and
// left to libuv, which needs their exit status.

#include "core/uv_handle.hpp"

#include <sys/types.h>
#include <uv.h>

namespace belay::chrome {

void claim_child(pid_t pid);
void release_child(pid_t pid);

class ChildReaper {
 public:
  explicit ChildReaper(uv_loop_t* loop);
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Reaps every exited child that nobody claimed; returns how many.
  int reap();

 private:
  UvHandle<uv_signal_t> sigchld_;
};

}  // namespace belay::chrome
