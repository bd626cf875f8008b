#pragma once
// The host half of `belay attach`: a unix socket (STATE/control.sock, mode
// 0600) on the run's loop. Each client that is the host's own user (checked
// with SO_PEERCRED) gets a session of its own — a console evaluator made by
// the factory — and talks to it in the messages of protocol.hpp. Nothing a
// client sends can stop the host: a malformed message is an error reply, a
// client that goes away only ends its own session.

#include "core/error.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace belay::control {

// One client's console, with no Lua in sight (bindings implement it).
class ControlSession {
 public:
  using Evaluated = std::function<void(bool ok, std::string text)>;
  virtual ~ControlSession() = default;
  // `done` is called once, from the loop; never after the session is gone.
  virtual void eval(const std::string& chunk, Evaluated done) = 0;
  virtual bool busy() const = 0;
  virtual void cancel() = 0;
  virtual std::vector<std::string> complete(const std::string& word) = 0;
};

// Makes a client's session; `print` sends a line of its output to the client.
using SessionFactory = std::function<std::unique_ptr<ControlSession>(
    std::function<void(std::string_view line)> print)>;

class ControlServer {
 public:
  ControlServer(uv_loop_t* loop, SessionFactory factory);
  // Closes the socket and every client (their chunks are abandoned) and
  // removes the socket file. The handles finish closing on the loop.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and listens at `path`. A socket file left by a host that died is
  // replaced; one a live host still serves is an error.
  std::optional<Error> listen(const std::string& path);
  size_t clients() const;

  struct State;  // shared with the handles' callbacks

 private:
  std::shared_ptr<State> state_;
};

}  // namespace belay::control
