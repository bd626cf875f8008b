#pragma once
// CDP over a WebSocket (a browser launched with --remote-debugging-port=0, or
// one someone else started: `--connect ws://…`). websocketpp does the framing
// with its iostream transport; libuv owns the socket, so there is no asio
// thread and no second loop.

#include "cdp/transport.hpp"
#include "core/uv_handle.hpp"

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace belay::cdp {

struct WsOptions {
  size_t max_message_bytes = 256u << 20;
  size_t read_chunk_bytes = 256u << 10;  // tests shrink it to force partial frames
};

class WsTransport final : public Transport {
 public:
  using ConnectCallback = std::function<void(std::optional<Error>)>;

  WsTransport(uv_loop_t* loop, WsOptions options = {});
  ~WsTransport() override;

  // Resolves, connects and performs the WebSocket handshake. `done` runs
  // once, from the loop: nullopt when open, else why it failed. The
  // transport must stay alive until then.
  void connect(const std::string& url, uint64_t timeout_ms, ConnectCallback done);

  void set_sink(Sink* sink) override { sink_ = sink; }
  void send(std::string message) override;
  void close() override;
  bool is_open() const override;
  std::string_view name() const override { return "websocket"; }

 private:
  struct Impl;  // keeps websocketpp's heavy headers out of every includer
  std::unique_ptr<Impl> impl_;
  Sink* sink_ = nullptr;
};

}  // namespace belay::cdp
