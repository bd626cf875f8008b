#include "browser/page_settings.hpp"

namespace belay::browser {

using json = nlohmann::json;

void set_extra_headers(Page& page, json headers, uint64_t timeout_ms, std::string op,
                       Page::Done done) {
  // Extra headers apply only while the Network domain is on.
  std::weak_ptr<bool> alive = page.lifetime();
  page.send(cdp::Command{"Network.enable", json::object(), "", timeout_ms, op},
            [&page, alive, headers = std::move(headers), timeout_ms, op,
             done = std::move(done)](Result<json> enabled) mutable {
              if (!enabled) return done(std::move(enabled));
              if (alive.expired()) {
                return done(Error{Kind::target_closed, "the page was closed", op, {}});
              }
              page.send(cdp::Command{"Network.setExtraHTTPHeaders",
                                     {{"headers", std::move(headers)}},
                                     "",
                                     timeout_ms,
                                     op},
                        std::move(done));
            });
}

void set_user_agent(Page& page, const std::string& user_agent, uint64_t timeout_ms, std::string op,
                    Page::Done done) {
  page.send(cdp::Command{"Emulation.setUserAgentOverride",
                         {{"userAgent", user_agent}},
                         "",
                         timeout_ms,
                         std::move(op)},
            std::move(done));
}

void set_viewport(Page& page, const Viewport& viewport, uint64_t timeout_ms, std::string op,
                  Page::Done done) {
  page.send(cdp::Command{"Emulation.setDeviceMetricsOverride",
                         {{"width", viewport.width},
                          {"height", viewport.height},
                          {"deviceScaleFactor", viewport.scale},
                          {"mobile", viewport.mobile}},
                         "",
                         timeout_ms,
                         std::move(op)},
            std::move(done));
}

}  // namespace belay::browser
