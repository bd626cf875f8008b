#pragma once
// Requests paused for a script to answer (page:route's mechanism). While a
// page has a decider, the Fetch domain pauses each of its requests
// (Fetch.requestPaused) and hands it to the decider, which answers it —
// now or later, from a script — exactly once: continue (changed or not),
// fulfill with a response of its own, or abort. A request the decider does
// not take, or that is dropped undecided, continues as it was, so a paused
// request never outlives whoever held it. Which request gets which answer
// is the script's business; this file only pauses and answers.

#include "cdp/connection.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace belay::browser {

class Page;

struct RequestInfo {
  std::string request_id;  // the Fetch domain's id
  std::string url;
  std::string method;
  nlohmann::json headers = nlohmann::json::object();  // name -> value
  std::optional<std::string> post_data;
  std::string resource_type;  // lower case: document, image, xhr, fetch, ...
  static RequestInfo from_cdp(const nlohmann::json& params);
};

// What continue changes; what is absent stays as the browser had it.
struct RequestOverrides {
  std::optional<std::string> url;
  std::optional<std::string> method;
  std::optional<nlohmann::json> headers;  // name -> value, replaces them all
  std::optional<std::string> post_data;
};

struct Fulfillment {
  int status = 200;
  nlohmann::json headers = nlohmann::json::object();  // name -> value
  std::string body;
};

// The resource types a request can have, as RequestInfo names them.
const std::vector<std::string>& resource_type_names();
// The reasons abort takes (Network.ErrorReason in lower case), and the CDP
// name of one; nullopt for an unknown name.
const std::vector<std::string>& abort_reason_names();
std::optional<std::string> abort_reason_from_name(std::string_view name);

class PausedRequest {
 public:
  using Send = std::function<void(cdp::Command command)>;
  PausedRequest(RequestInfo info, Send send) : info_(std::move(info)), send_(std::move(send)) {}
  // One held by nobody continues as it was.
  ~PausedRequest();
  PausedRequest(const PausedRequest&) = delete;
  PausedRequest& operator=(const PausedRequest&) = delete;

  const RequestInfo& info() const { return info_; }
  bool decided() const { return decided_; }
  // Each is false when the request was decided already: nothing is sent
  // again.
  bool continue_request(const RequestOverrides& overrides);
  bool fulfill(const Fulfillment& response);
  bool abort(const std::string& cdp_reason);

 private:
  bool decide(std::string method, nlohmann::json params);

  RequestInfo info_;
  Send send_;
  bool decided_ = false;
};

class RequestInterception {
 public:
  // Takes the request (true), or leaves it to continue at once (false).
  using Decider = std::function<bool(const std::shared_ptr<PausedRequest>& request)>;

  RequestInterception(Page& page, cdp::Connection& connection);
  ~RequestInterception();
  RequestInterception(const RequestInterception&) = delete;
  RequestInterception& operator=(const RequestInterception&) = delete;

  // A decider pauses every request of the page from now on, and turns the
  // page's cache off (a cached answer would not be paused); none (nullptr)
  // lets them all through again. `done` hears whether the browser agreed.
  void set_decider(Decider decider, uint64_t timeout_ms,
                   std::function<void(Result<nlohmann::json>)> done);
  bool active() const { return static_cast<bool>(decider_); }

 private:
  void on_paused(const nlohmann::json& params);

  Page& page_;
  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;
  Decider decider_;
  uint64_t subscription_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::browser
