#include "browser/page_events.hpp"

#include "browser/page.hpp"
#include "cdp/reply_fields.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace belay::browser {
namespace {

// Requests whose end was never seen (a page that went away mid-load) are
// forgotten past this many, so the map stays small on a long-lived page.
constexpr size_t kRequestsRemembered = 4096;
constexpr uint64_t kEnableTimeoutMs = 10000;

double wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<double>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// A console argument as text, the way a console prints it: a string as
// itself, other primitives by value, objects by their description.
std::string remote_object_text(const nlohmann::json& object) {
  if (!object.is_object()) return "";
  if (auto value = object.find("value"); value != object.end()) {
    if (value->is_string()) return value->get<std::string>();
    if (!value->is_null() || cdp::string_field(object, "subtype", "") == "null") {
      return value->dump();
    }
  }
  if (auto text = cdp::string_field(object, "unserializableValue", ""); !text.empty()) return text;
  if (auto text = cdp::string_field(object, "description", ""); !text.empty()) return text;
  return cdp::string_field(object, "type", "");
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

nlohmann::json object_field(const nlohmann::json& message, const char* key) {
  if (!message.is_object()) return nlohmann::json::object();
  auto it = message.find(key);
  return it != message.end() && it->is_object() ? *it : nlohmann::json::object();
}

double number_field(const nlohmann::json& message, const char* key) {
  if (!message.is_object()) return 0;
  auto it = message.find(key);
  return it != message.end() && it->is_number() ? it->get<double>() : 0;
}

}  // namespace

const std::vector<std::string>& page_event_names() {
  static const std::vector<std::string> names = {
      "console",  "pageerror", "dialog", "request",          "response",       "requestfailed",
      "download", "popup",     "load",   "domcontentloaded", "framenavigated", "close"};
  return names;
}

bool is_page_event_name(std::string_view name) {
  const auto& names = page_event_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

PageEvents::PageEvents(Page& page, cdp::Connection& connection)
    : page_(page), connection_(connection), connection_alive_(connection.alive_token()) {}

PageEvents::~PageEvents() {
  alive_.reset();
  if (connection_alive_.expired()) return;
  for (uint64_t id : subscriptions_) connection_.unsubscribe(id);
}

uint64_t PageEvents::listen(const std::string& name, Listener listener) {
  const uint64_t id = next_id_++;
  listeners_.emplace(id, Entry{name, std::move(listener), wall_clock_ms()});
  ensure_source(name);
  return id;
}

void PageEvents::unlisten(uint64_t id) { listeners_.erase(id); }

bool PageEvents::has_listeners(const std::string& name) const {
  return std::any_of(listeners_.begin(), listeners_.end(),
                     [&](const auto& entry) { return entry.second.name == name; });
}

void PageEvents::emit(const std::string& name, const json& payload) {
  emit_since(name, payload, 0);
}

void PageEvents::emit_since(const std::string& name, const json& payload, double event_ms) {
  // A listener may unlisten itself or others while it runs.
  std::vector<uint64_t> ids;
  for (const auto& [id, entry] : listeners_) {
    if (entry.name == name && (event_ms <= 0 || event_ms >= entry.since_ms)) ids.push_back(id);
  }
  std::weak_ptr<bool> alive = alive_;
  for (uint64_t id : ids) {
    auto it = listeners_.find(id);
    if (it == listeners_.end()) continue;
    Listener listener = it->second.listener;
    listener(payload);
    if (alive.expired()) return;
  }
}

void PageEvents::subscribe(const std::string& method, std::function<void(const json&)> handler) {
  if (connection_alive_.expired()) return;
  subscriptions_.push_back(connection_.subscribe(
      page_.session_id(), method,
      [handler = std::move(handler)](const std::string&, const json& params) { handler(params); }));
}

void PageEvents::ensure_source(const std::string& name) {
  if (std::find(sources_.begin(), sources_.end(), name) != sources_.end()) return;
  sources_.push_back(name);
  if (name == "console") {
    subscribe("Runtime.consoleAPICalled", [this](const json& p) {
      std::string text;
      if (auto args = p.find("args"); args != p.end() && args->is_array()) {
        for (const auto& arg : *args) {
          if (!text.empty()) text += ' ';
          text += remote_object_text(arg);
        }
      }
      emit_since("console", {{"type", cdp::string_field(p, "type", "log")}, {"text", text}},
                 number_field(p, "timestamp"));
    });
    // The Runtime domain, through the frame tracker: it must be the one to
    // enable it, since only the first Runtime.enable reports the contexts
    // it tracks.
    page_.frames().start(kEnableTimeoutMs, [](std::optional<Error>) {});
  } else if (name == "pageerror") {
    subscribe("Runtime.exceptionThrown", [this](const json& p) {
      const json details = object_field(p, "exceptionDetails");
      std::string message = cdp::string_field(details, "text", "exception");
      const json exception = object_field(details, "exception");
      message = cdp::string_field(exception, "description", message);
      emit_since("pageerror",
                 {{"message", message}, {"url", cdp::string_field(details, "url", "")}},
                 number_field(p, "timestamp"));
    });
    page_.frames().start(kEnableTimeoutMs, [](std::optional<Error>) {});
  } else if (name == "load") {
    subscribe("Page.loadEventFired", [this](const json&) { emit("load", json::object()); });
  } else if (name == "domcontentloaded") {
    subscribe("Page.domContentEventFired",
              [this](const json&) { emit("domcontentloaded", json::object()); });
  } else if (name == "framenavigated") {
    subscribe("Page.frameNavigated", [this](const json& p) {
      const json frame = object_field(p, "frame");
      emit("framenavigated", {{"name", cdp::string_field(frame, "name", "")},
                              {"url", cdp::string_field(frame, "url", "")},
                              {"main", cdp::string_field(frame, "parentId", "").empty()}});
    });
  } else if (name == "request" || name == "response" || name == "requestfailed") {
    if (network_enabled_) return;
    network_enabled_ = true;
    subscribe("Network.requestWillBeSent", [this](const json& p) { on_request(p); });
    subscribe("Network.responseReceived", [this](const json& p) { on_response(p); });
    subscribe("Network.loadingFailed", [this](const json& p) { on_loading_failed(p); });
    subscribe("Network.loadingFinished", [this](const json& p) {
      request_urls_.erase(cdp::string_field(p, "requestId", ""));
    });
    page_.send(cdp::Command{"Network.enable", json::object(), "", kEnableTimeoutMs, ""},
               [](Result<json>) {});
  }
  // dialog and close: the page emits them itself.
}

void PageEvents::on_request(const json& p) {
  const json request = object_field(p, "request");
  const std::string url = cdp::string_field(request, "url", "");
  if (request_urls_.size() >= kRequestsRemembered) request_urls_.clear();
  request_urls_[cdp::string_field(p, "requestId", "")] = url;
  emit("request", {{"url", url},
                   {"method", cdp::string_field(request, "method", "GET")},
                   {"headers", object_field(request, "headers")},
                   {"resource_type", lowercase(cdp::string_field(p, "type", "Other"))}});
}

void PageEvents::on_response(const json& p) {
  const json response = object_field(p, "response");
  emit("response", {{"url", cdp::string_field(response, "url", "")},
                    {"status", static_cast<int>(number_field(response, "status"))},
                    {"headers", object_field(response, "headers")},
                    {"resource_type", lowercase(cdp::string_field(p, "type", "Other"))}});
}

void PageEvents::on_loading_failed(const json& p) {
  const std::string id = cdp::string_field(p, "requestId", "");
  auto it = request_urls_.find(id);
  const std::string url = it != request_urls_.end() ? it->second : "";
  if (it != request_urls_.end()) request_urls_.erase(it);
  emit("requestfailed", {{"url", url},
                         {"error", cdp::string_field(p, "errorText", "")},
                         {"resource_type", lowercase(cdp::string_field(p, "type", "Other"))}});
}

}  // namespace belay::browser
