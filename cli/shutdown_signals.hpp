#pragma once
// SIGINT and SIGTERM stop a run: no new item starts, and the calls in flight
// (a navigation, a belay.sleep) are cancelled so the item ends now rather
// than at its own deadline. The run then ends as any other, exit code 1.

#include "campaign/runner.hpp"
#include "core/uv_handle.hpp"
#include "script_host.hpp"

#include <uv.h>

namespace belay::cli {

class ShutdownSignals {
 public:
  ShutdownSignals(uv_loop_t* loop, campaign::Runner& runner, lua::ScriptHost& host);
  ~ShutdownSignals() { close(); }
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Stops listening. The handles are freed by the loop's next turn.
  void close();

 private:
  static void on_signal(uv_signal_t* signal, int signum);

  campaign::Runner& runner_;
  lua::ScriptHost& host_;
  UvHandle<uv_signal_t> sigint_;
  UvHandle<uv_signal_t> sigterm_;
};

}  // namespace belay::cli
