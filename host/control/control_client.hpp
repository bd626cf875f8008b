#pragma once
// The client half of `belay attach`: connects to a run's control.sock on the
// client's own loop, sends requests and hands each message from the host to
// a callback. Connection problems are worded for the operator (no run there,
// another user's run, a socket left by a run that died).

#include "control/line_buffer.hpp"
#include "control/protocol.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace belay::control {

class ControlClient {
 public:
  using OnMessage = std::function<void(const nlohmann::json& message)>;

  explicit ControlClient(uv_loop_t* loop);
  // Closes the connection; the handle finishes closing on the loop.
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Connects and waits (running the loop) for the host's hello or refusal.
  std::optional<Error> connect(const std::string& path, uint64_t timeout_ms = 10000);
  void on_message(OnMessage handler);
  void send(const Request& request);
  bool connected() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace belay::control
