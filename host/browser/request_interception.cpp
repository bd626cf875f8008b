#include "browser/request_interception.hpp"

#include "browser/page.hpp"
#include "cdp/reply_fields.hpp"
#include "core/base64.hpp"

#include <algorithm>
#include <cctype>

namespace belay::browser {
namespace {

using json = nlohmann::json;

// An answer that finds the request gone (its page navigated away, closed)
// has nobody to tell: the browser already dropped the request.
constexpr uint64_t kAnswerTimeoutMs = 10000;

// CDP's Network.ResourceType and Network.ErrorReason names.
const std::vector<std::string> kResourceTypes = {
    "Document",  "Stylesheet",     "Image",       "Media",
    "Font",      "Script",         "TextTrack",   "XHR",
    "Fetch",     "Prefetch",       "EventSource", "WebSocket",
    "Manifest",  "SignedExchange", "Ping",        "CSPViolationReport",
    "Preflight", "Other"};
const std::vector<std::string> kErrorReasons = {"Failed",
                                                "Aborted",
                                                "TimedOut",
                                                "AccessDenied",
                                                "ConnectionClosed",
                                                "ConnectionReset",
                                                "ConnectionRefused",
                                                "ConnectionAborted",
                                                "ConnectionFailed",
                                                "NameNotResolved",
                                                "InternetDisconnected",
                                                "AddressUnreachable",
                                                "BlockedByClient",
                                                "BlockedByResponse"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::vector<std::string> lowered(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) out.push_back(lower(name));
  return out;
}

// {name: value} as Fetch wants headers: [{name, value}].
json header_entries(const json& headers) {
  json entries = json::array();
  if (!headers.is_object()) return entries;
  for (const auto& [name, value] : headers.items()) {
    entries.push_back(
        {{"name", name}, {"value", value.is_string() ? value.get<std::string>() : value.dump()}});
  }
  return entries;
}

}  // namespace

RequestInfo RequestInfo::from_cdp(const json& params) {
  RequestInfo info;
  info.request_id = cdp::string_field(params, "requestId");
  const json empty = json::object();
  auto request = params.is_object() ? params.find("request") : params.end();
  const json& r =
      params.is_object() && request != params.end() && request->is_object() ? *request : empty;
  info.url = cdp::string_field(r, "url");
  info.method = cdp::string_field(r, "method", "GET");
  auto headers = r.find("headers");
  if (headers != r.end() && headers->is_object()) {
    for (const auto& [name, value] : headers->items()) {
      if (value.is_string()) info.headers[name] = value;
    }
  }
  auto post = r.find("postData");
  if (post != r.end() && post->is_string()) info.post_data = post->get<std::string>();
  info.resource_type = lower(cdp::string_field(params, "resourceType", "Other"));
  return info;
}

const std::vector<std::string>& resource_type_names() {
  static const std::vector<std::string> names = lowered(kResourceTypes);
  return names;
}

const std::vector<std::string>& abort_reason_names() {
  static const std::vector<std::string> names = lowered(kErrorReasons);
  return names;
}

std::optional<std::string> abort_reason_from_name(std::string_view name) {
  for (const auto& reason : kErrorReasons) {
    if (lower(reason) == name) return reason;
  }
  return std::nullopt;
}

PausedRequest::~PausedRequest() {
  if (!decided_) continue_request({});
}

bool PausedRequest::decide(std::string method, json params) {
  if (decided_) return false;
  decided_ = true;
  params["requestId"] = info_.request_id;
  if (send_) send_(cdp::Command{std::move(method), std::move(params), "", kAnswerTimeoutMs, ""});
  return true;
}

bool PausedRequest::continue_request(const RequestOverrides& overrides) {
  json params = json::object();
  if (overrides.url) params["url"] = *overrides.url;
  if (overrides.method) params["method"] = *overrides.method;
  if (overrides.headers) params["headers"] = header_entries(*overrides.headers);
  if (overrides.post_data) params["postData"] = base64_encode(*overrides.post_data);
  return decide("Fetch.continueRequest", std::move(params));
}

bool PausedRequest::fulfill(const Fulfillment& response) {
  return decide("Fetch.fulfillRequest", {{"responseCode", response.status},
                                         {"responseHeaders", header_entries(response.headers)},
                                         {"body", base64_encode(response.body)}});
}

bool PausedRequest::abort(const std::string& cdp_reason) {
  return decide("Fetch.failRequest", {{"errorReason", cdp_reason}});
}

RequestInterception::RequestInterception(Page& page, cdp::Connection& connection)
    : page_(page), connection_(connection), connection_alive_(connection.alive_token()) {}

RequestInterception::~RequestInterception() {
  alive_.reset();
  if (!connection_alive_.expired() && subscription_ != 0) connection_.unsubscribe(subscription_);
}

void RequestInterception::set_decider(Decider decider, uint64_t timeout_ms,
                                      std::function<void(Result<json>)> done) {
  const bool was_active = active();
  decider_ = std::move(decider);
  if (active() == was_active) return done(json::object());
  if (active() && subscription_ == 0 && !connection_alive_.expired()) {
    std::weak_ptr<bool> alive = alive_;
    subscription_ = connection_.subscribe(page_.session_id(), "Fetch.requestPaused",
                                          [this, alive](const std::string&, const json& params) {
                                            if (!alive.expired()) on_paused(params);
                                          });
  }
  // A request served from the browser's cache is never paused: while the
  // page is intercepted it has none (as Puppeteer and Playwright do). The
  // Network domain must be on for that; it stays on after (page:on's
  // network events may use it).
  if (active()) {
    page_.send(cdp::Command{"Network.enable", json::object(), "", timeout_ms, ""},
               [](Result<json>) {});
  }
  page_.send(
      cdp::Command{"Network.setCacheDisabled", {{"cacheDisabled", active()}}, "", timeout_ms, ""},
      [](Result<json>) {});
  // Every request of the page, at the request stage (before it is sent).
  json params =
      active() ? json{{"patterns", json::array({{{"urlPattern", "*"}}})}} : json::object();
  page_.send(cdp::Command{active() ? "Fetch.enable" : "Fetch.disable", std::move(params), "",
                          timeout_ms, ""},
             std::move(done));
}

void RequestInterception::on_paused(const json& params) {
  RequestInfo info = RequestInfo::from_cdp(params);
  if (info.request_id.empty()) return;  // garbage: nothing to answer
  std::weak_ptr<bool> page_alive = page_.lifetime();
  Page* page = &page_;
  auto request =
      std::make_shared<PausedRequest>(std::move(info), [page, page_alive](cdp::Command command) {
        if (page_alive.expired()) return;
        page->send(std::move(command), [](Result<json>) {});
      });
  // Not taken (the decider was just removed, or it declined): on its way.
  if (!decider_ || !decider_(request)) request->continue_request({});
}

}  // namespace belay::browser
