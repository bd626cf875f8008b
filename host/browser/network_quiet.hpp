#pragma once
// The requests on one page's session still waiting for their response, and
// the moments its network goes quiet (nothing waiting, no event for
// kQuietMs): what navigate's `networkidle` waits for. Chromium's own
// networkIdle lifecycle event is not used: for a page that fetches from its
// load handler without reading the body it never came, and the navigation
// waiting for it timed out. Playwright counts requests itself too.

#include "cdp/connection.hpp"
#include "core/uv_handle.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace belay::browser {

class Page;
using json = nlohmann::json;

class NetworkQuiet {
 public:
  // How long no request may be in flight before the network counts as quiet.
  static constexpr uint64_t kQuietMs = 500;

  // `quiet` is called each time kQuietMs pass with nothing in flight after
  // a window was opened (open_window).
  NetworkQuiet(Page& page, cdp::Connection& connection, std::function<void()> quiet);
  ~NetworkQuiet();
  NetworkQuiet(const NetworkQuiet&) = delete;
  NetworkQuiet& operator=(const NetworkQuiet&) = delete;

  // Turns the Network domain on for the page (once); requests are counted
  // from then on. `done` gets the error of a Network.enable that failed.
  void enable(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done);
  // Starts a fresh quiet period: `quiet` is called once no request has
  // waited for its response and no network event came for kQuietMs.
  void open_window();
  // A new document committed: requests of the one it replaced will not all
  // report their end, and must not hold the new one's idle back.
  void new_document();
  size_t in_flight() const { return in_flight_.size(); }

 private:
  void subscribe(const std::string& method, std::function<void(const json&)> handler);
  void started(const json& params);
  void answered(const json& params);
  // Any network event: the quiet period starts again from now, if nothing
  // waits for its response.
  void activity();
  void arm();

  Page& page_;
  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;
  std::function<void()> quiet_;
  bool enabled_ = false;
  bool window_open_ = false;
  std::unordered_set<std::string> in_flight_;
  std::vector<uint64_t> subscriptions_;
  UvHandle<uv_timer_t> timer_;
};

}  // namespace belay::browser
