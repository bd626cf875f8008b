#pragma once
// Popups of one browser connection: pages a page opened (window.open, a
// link with target=_blank). The browser tells of every new target once
// discovery is on (Target.setDiscoverTargets); a page target with an
// opener is a popup, and its owner (BrowserSession) attaches it as a page
// of its own and tells the opener's `popup` listeners.

#include "cdp/connection.hpp"

#include <functional>
#include <memory>
#include <string>

namespace belay::browser {

class PopupWatch {
 public:
  using json = nlohmann::json;
  // A new page target `target_id` that the page `opener_id` opened.
  using Opened = std::function<void(const std::string& target_id, const std::string& opener_id,
                                    const std::string& url)>;

  PopupWatch(cdp::Connection& connection, Opened opened);
  ~PopupWatch();
  PopupWatch(const PopupWatch&) = delete;
  PopupWatch& operator=(const PopupWatch&) = delete;

  // Turns discovery on; `done` with the browser's answer.
  void enable(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done);

 private:
  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;
  Opened opened_;
  uint64_t subscription_ = 0;
};

}  // namespace belay::browser
