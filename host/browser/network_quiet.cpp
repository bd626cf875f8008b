#include "browser/network_quiet.hpp"

#include "browser/page.hpp"
#include "cdp/reply_fields.hpp"

namespace belay::browser {

NetworkQuiet::NetworkQuiet(Page& page, cdp::Connection& connection, std::function<void()> quiet)
    : page_(page),
      connection_(connection),
      connection_alive_(connection.alive_token()),
      quiet_(std::move(quiet)) {
  uv_timer_init(page_.loop(), timer_.get());
  timer_->data = this;
  subscribe("Network.requestWillBeSent", [this](const json& p) { started(p); });
  // A response ends the wait for it: Chromium reports a fetch() finished
  // only once the page reads its body, and many never do. A body still
  // coming keeps the network busy through its chunks (dataReceived).
  subscribe("Network.responseReceived", [this](const json& p) { answered(p); });
  subscribe("Network.dataReceived", [this](const json&) { activity(); });
  subscribe("Network.loadingFinished", [this](const json& p) { answered(p); });
  subscribe("Network.loadingFailed", [this](const json& p) { answered(p); });
}

NetworkQuiet::~NetworkQuiet() {
  timer_.reset();
  if (connection_alive_.expired()) return;
  for (uint64_t id : subscriptions_) connection_.unsubscribe(id);
}

void NetworkQuiet::subscribe(const std::string& method, std::function<void(const json&)> handler) {
  if (connection_alive_.expired()) return;  // a page may outlive its browser
  subscriptions_.push_back(connection_.subscribe(
      page_.session_id(), method,
      [handler = std::move(handler)](const std::string&, const json& params) { handler(params); }));
}

void NetworkQuiet::enable(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done) {
  if (enabled_) return done(std::nullopt);
  std::weak_ptr<bool> page_alive = page_.lifetime();
  // Network.enable is idempotent: two navigations asking at once both send it.
  page_.send(cdp::Command{"Network.enable", json::object(), "", timeout_ms, "Network.enable"},
             [this, page_alive, done = std::move(done)](Result<json> reply) {
               if (!reply) return done(reply.error());
               if (!page_alive.expired()) enabled_ = true;
               done(std::nullopt);
             });
}

void NetworkQuiet::open_window() {
  window_open_ = true;
  activity();
}

void NetworkQuiet::new_document() {
  in_flight_.clear();
  activity();
}

void NetworkQuiet::started(const json& params) {
  const std::string id = cdp::string_field(params, "requestId", "");
  // A redirect is sent again under its request's id: still one request.
  if (!id.empty()) in_flight_.insert(id);
  activity();
}

void NetworkQuiet::answered(const json& params) {
  in_flight_.erase(cdp::string_field(params, "requestId", ""));
  activity();
}

void NetworkQuiet::activity() {
  if (in_flight_.empty() && window_open_) return arm();  // restarts a running timer
  uv_timer_stop(timer_.get());
}

void NetworkQuiet::arm() {
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<NetworkQuiet*>(t->data);
        if (self == nullptr) return;
        self->window_open_ = false;
        // The callback may finish navigations whose callers close the page.
        std::function<void()> quiet = self->quiet_;
        quiet();
      },
      kQuietMs, 0);
}

}  // namespace belay::browser
