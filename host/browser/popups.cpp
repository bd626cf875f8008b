#include "browser/popups.hpp"

#include "cdp/reply_fields.hpp"

namespace belay::browser {

PopupWatch::PopupWatch(cdp::Connection& connection, Opened opened)
    : connection_(connection),
      connection_alive_(connection.alive_token()),
      opened_(std::move(opened)) {
  subscription_ = connection_.subscribe(
      "", "Target.targetCreated", [this](const std::string&, const json& params) {
        const json empty = json::object();
        auto info = params.is_object() ? params.find("targetInfo") : params.end();
        const json& target =
            params.is_object() && info != params.end() && info->is_object() ? *info : empty;
        if (cdp::string_field(target, "type") != "page") return;
        const std::string opener = cdp::string_field(target, "openerId");
        const std::string id = cdp::string_field(target, "targetId");
        if (opener.empty() || id.empty()) return;
        opened_(id, opener, cdp::string_field(target, "url"));
      });
}

PopupWatch::~PopupWatch() {
  if (!connection_alive_.expired()) connection_.unsubscribe(subscription_);
}

void PopupWatch::enable(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done) {
  connection_.send(
      cdp::Command{"Target.setDiscoverTargets", {{"discover", true}}, "", timeout_ms, ""},
      [done = std::move(done)](Result<json> r) {
        if (r) return done(std::nullopt);
        done(r.error());
      });
}

}  // namespace belay::browser
