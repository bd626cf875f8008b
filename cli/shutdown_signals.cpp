#include "shutdown_signals.hpp"

#include <csignal>
#include <string>
#include <utility>

namespace belay::cli {

ShutdownSignals::ShutdownSignals(uv_loop_t* loop, campaign::Runner& runner, lua::ScriptHost& host)
    : runner_(runner), host_(host) {
  using Signal = std::pair<uv_signal_t*, int>;
  for (auto [handle, signum] : {Signal{sigint_.get(), SIGINT}, Signal{sigterm_.get(), SIGTERM}}) {
    uv_signal_init(loop, handle);
    handle->data = this;
    uv_signal_start(handle, &ShutdownSignals::on_signal, signum);
  }
}

void ShutdownSignals::close() {
  sigint_.reset();
  sigterm_.reset();
}

void ShutdownSignals::on_signal(uv_signal_t* signal, int signum) {
  auto* self = static_cast<ShutdownSignals*>(signal->data);
  if (self == nullptr) return;  // closed, its close callback not yet run
  self->runner_.stop();
  self->host_.cancel_all(Error{
      Kind::cancelled,
      std::string("belay is shutting down (") + (signum == SIGINT ? "SIGINT" : "SIGTERM") + ")",
      "shutdown",
      {}});
}

}  // namespace belay::cli
