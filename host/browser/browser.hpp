#pragma once
// A browser as belay sees it: the process (when belay launched it) and the
// one CDP connection that carries every page's session.

#include "cdp/connection.hpp"
#include "cdp/pipe_transport.hpp"
#include "cdp/ws_transport.hpp"
#include "chrome/chrome_process.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace belay::browser {

class Page;

// How belay speaks to a browser it launched; tests shrink the read chunks to
// force every message through the partial-read paths.
struct TransportOptions {
  cdp::PipeOptions pipe;
  cdp::WsOptions ws;
};

class Browser {
 public:
  using ReadyCallback = std::function<void(std::optional<Error>)>;
  using PageCallback = std::function<void(Result<std::unique_ptr<Page>>)>;

  // Starts a browser; `ready` runs once it is connected or has failed.
  // The launch's startup_timeout_ms also bounds the WebSocket handshake.
  static std::unique_ptr<Browser> launch(uv_loop_t* loop, chrome::LaunchOptions options,
                                         ReadyCallback ready, TransportOptions transport = {});
  // Attaches to a browser someone else started (ws://…/devtools/browser/…).
  static std::unique_ptr<Browser> connect(uv_loop_t* loop, const std::string& ws_url,
                                          uint64_t timeout_ms, ReadyCallback ready);
  // Drives a browser over a transport that is already open (the fake CDP
  // peers of the tests, for faults Chromium cannot be made to produce).
  // Like connect, nothing was launched: close only detaches.
  static std::unique_ptr<Browser> over(uv_loop_t* loop, std::unique_ptr<cdp::Transport> transport);
  ~Browser();

  bool connected() const { return connection_ && connection_->is_open(); }
  cdp::Connection& connection() { return *connection_; }
  // The process, when belay launched it; nullptr for an attached browser.
  chrome::ChromeProcess* process() { return process_.get(); }
  pid_t pid() const { return process_ ? process_->pid() : 0; }

  void send(cdp::Command command, cdp::Connection::ReplyCallback done);
  void version(cdp::Connection::ReplyCallback done);
  // Opens a tab and attaches to it with a flattened session.
  void new_page(PageCallback done, uint64_t timeout_ms = 30000);
  // Attaches to an existing page target (a popup) with a flattened session.
  void attach_page(const std::string& target_id, uint64_t timeout_ms, PageCallback done);
  // Target infos of every page.
  void pages(cdp::Connection::ReplyCallback done);
  // Browser.close, then the process group is ended (SIGTERM, then SIGKILL).
  // A browser belay did not launch (connect) is only detached from.
  void close(std::function<void()> done, uint64_t grace_ms = 3000);
  // No Browser.close: the process group is signalled at once (SIGTERM,
  // SIGKILL after `grace_ms`). For a browser that is hung or already dead.
  void kill(std::function<void()> done, uint64_t grace_ms = 3000);
  // The connection dropped or the process exited; runs once.
  void on_disconnect(std::function<void(const Error&)> handler);

 private:
  explicit Browser(uv_loop_t* loop) : loop_(loop) {}
  void adopt(std::unique_ptr<cdp::Transport> transport);
  void connect_ws(const std::string& ws_url, uint64_t timeout_ms, cdp::WsOptions options,
                  ReadyCallback ready);

  uv_loop_t* loop_;
  std::unique_ptr<chrome::ChromeProcess> process_;
  std::unique_ptr<cdp::WsTransport> connecting_;
  std::unique_ptr<cdp::Connection> connection_;
  std::function<void(const Error&)> disconnect_handler_;
  std::optional<Error> disconnected_;
  // The target id of the tab in front, shared with every page; empty when
  // not known (a tab was created or attached since).
  std::shared_ptr<std::string> front_tab_ = std::make_shared<std::string>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::browser
