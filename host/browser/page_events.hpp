#pragma once
// What a page tells scripts, by name: the CDP events of its session turned
// into small JSON payloads (DESIGN.md "Lua API", Events). A name's CDP
// domain is enabled when it is first listened to, so a page nobody listens
// to pays nothing. Listeners are called from the connection's callback:
// they queue, they do not run scripts.

#include "cdp/connection.hpp"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace belay::browser {

class Page;

// Every name page:on knows, in DESIGN.md's order.
const std::vector<std::string>& page_event_names();
bool is_page_event_name(std::string_view name);

class PageEvents {
 public:
  using json = nlohmann::json;
  using Listener = std::function<void(const json& payload)>;

  PageEvents(Page& page, cdp::Connection& connection);
  ~PageEvents();
  PageEvents(const PageEvents&) = delete;
  PageEvents& operator=(const PageEvents&) = delete;

  // Starts handing `name`'s events to `listener`; returns an id for
  // unlisten(). Events that happened before (a console message replayed
  // when the Runtime domain is enabled) are not handed over.
  uint64_t listen(const std::string& name, Listener listener);
  void unlisten(uint64_t id);
  bool has_listeners(const std::string& name) const;
  // For the page itself: events it raises (dialog, close).
  void emit(const std::string& name, const json& payload);

 private:
  struct Entry {
    std::string name;
    Listener listener;
    double since_ms = 0;  // wall clock when it began listening
  };

  void ensure_source(const std::string& name);
  void subscribe(const std::string& method, std::function<void(const json&)> handler);
  void emit_since(const std::string& name, const json& payload, double event_ms);
  void on_request(const json& params);
  void on_response(const json& params);
  void on_loading_failed(const json& params);

  Page& page_;
  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;
  std::map<uint64_t, Entry> listeners_;
  uint64_t next_id_ = 1;
  std::vector<std::string> sources_;  // names whose CDP events are subscribed
  std::vector<uint64_t> subscriptions_;
  bool network_enabled_ = false;
  std::unordered_map<std::string, std::string> request_urls_;  // requestId -> url
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::browser
