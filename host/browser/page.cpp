#include "browser/page.hpp"

#include "browser/navigation_wait.hpp"
#include "browser/network_quiet.hpp"
#include "browser/page_events.hpp"
#include "browser/request_interception.hpp"
#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"

#include <cmath>
#include <limits>

namespace belay::browser {
namespace {

json unserializable_to_json(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text == "-0") return -0.0;
  return text;  // BigInt ("123n") has no JSON form: keep its text
}

}  // namespace

Page::Page(uv_loop_t* loop, cdp::Connection& connection, std::string target_id,
           std::string session_id)
    : loop_(loop),
      connection_(connection),
      connection_alive_(connection.alive_token()),
      target_id_(std::move(target_id)),
      session_id_(std::move(session_id)) {
  lifecycle_subscription_ = connection_.subscribe(
      session_id_, "Page.lifecycleEvent",
      [this](const std::string&, const json& params) { on_lifecycle(params); });
  dialog_subscription_ = connection_.subscribe(
      session_id_, "Page.javascriptDialogOpening",
      [this](const std::string&, const json& params) { on_dialog_opening(params); });
  session_end_subscription_ = connection_.on_session_end([this](const cdp::SessionEnd& end) {
    // An empty id: the connection closed, every session with it.
    if (end.session_id == session_id_ || end.session_id.empty()) on_session_end(end.why);
  });
}

Page::~Page() {
  alive_.reset();
  network_quiet_.reset();  // its quiet would reach waits being failed below
  // A navigation still waiting for its document ends now: its deadline
  // timer goes with this page (a browser restarted under an item drops
  // every page at once).
  const bool browser_gone = connection_alive_.expired() || !connection_.is_open();
  const Error why =
      gone_          ? *gone_
      : browser_gone ? Error{Kind::browser_disconnected,
                             "the browser went away while the page navigated",
                             "",
                             {}}
                     : Error{Kind::target_closed, "the page was closed while it navigated", "", {}};
  auto waits = std::move(waits_);
  for (auto& wait : waits) {
    Error error = why;
    error.op = wait->op;
    wait->done(std::move(error));
  }
  // A page belay closed (page:close, a reopened tab) is destroyed before
  // its session's end arrives: its close listeners hear of it now.
  if (events_ && !gone_) {
    events_->emit("close", {{"kind", "target_closed"}, {"reason", "the page was closed"}});
  }
  events_.reset();
  if (connection_alive_.expired()) return;
  connection_.unsubscribe(dialog_subscription_);
  connection_.unsubscribe(lifecycle_subscription_);
  connection_.remove_session_end_handler(session_end_subscription_);
}

void Page::prepare(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done) {
  // Lifecycle events are how navigate knows its document loaded; Page.enable
  // is needed for them and for dialogs/crash events.
  send(cdp::Command{"Page.enable", json::object(), "", timeout_ms, ""}, [this, timeout_ms,
                                                                         done](Result<json> reply) {
    if (!reply) return done(reply.error());
    send(cdp::Command{"Page.setLifecycleEventsEnabled", {{"enabled", true}}, "", timeout_ms, ""},
         [done](Result<json> r) {
           if (!r) return done(r.error());
           done(std::nullopt);
         });
  });
}

void Page::send(cdp::Command command, Done done) {
  send_on(session_id_, std::move(command), std::move(done));
}

void Page::send_on(const std::string& session_id, cdp::Command command, Done done) {
  if (connection_alive_.expired()) {
    return done(cdp::transport_closed("the page's browser is gone", command.op_or_method()));
  }
  command.session_id = session_id;
  connection_.send(std::move(command), std::move(done));
}

void Page::send_input(cdp::Command command, Done done) {
  if (!front_tab_ || *front_tab_ == target_id_) return send(std::move(command), std::move(done));
  // In front from now on: the input sent after this, on the same session,
  // arrives after the bringToFront.
  *front_tab_ = target_id_;
  std::weak_ptr<bool> alive = alive_;
  cdp::Command bring{"Page.bringToFront", json::object(), "", command.timeout_ms,
                     command.op_or_method()};
  send(std::move(bring), [this, alive, command = std::move(command),
                          done = std::move(done)](Result<json> brought) mutable {
    if (!brought) {
      if (!alive.expired() && front_tab_ && *front_tab_ == target_id_) front_tab_->clear();
      return done(std::move(brought));
    }
    if (alive.expired()) return done(cdp::session_detached("page was closed", command.op));
    send(std::move(command), std::move(done));
  });
}

ScriptTarget::Cancel Page::cancellable(const std::function<void()>& start) {
  if (connection_alive_.expired()) {
    start();
    return [](const Error&) {};
  }
  std::vector<uint64_t> ids = connection_.commands_sent_by(start);
  return [connection = &connection_, alive = connection_alive_, ids](const Error& why) {
    if (alive.expired()) return;
    for (uint64_t id : ids) connection->cancel(id, why);
  };
}

FrameTracker& Page::frames() {
  if (!frames_) frames_ = std::make_unique<FrameTracker>(connection_, session_id_);
  return *frames_;
}

RequestInterception& Page::interception() {
  if (!interception_) interception_ = std::make_unique<RequestInterception>(*this, connection_);
  return *interception_;
}

PageEvents& Page::events() {
  if (!events_) events_ = std::make_unique<PageEvents>(*this, connection_);
  return *events_;
}

void Page::on_dialog_opening(const json& params) {
  std::weak_ptr<bool> alive = alive_;
  auto dialog = std::make_shared<OpenDialog>(
      DialogInfo::from_cdp(params), dialog_policy_,
      [this, alive, info = DialogInfo::from_cdp(params)](bool accept, const std::string& text,
                                                         const std::string& by) {
        if (alive.expired()) return;
        json answer = {{"accept", accept}};
        if (accept && info.type == "prompt") answer["promptText"] = text;
        // A dialog closed meanwhile (the page navigated) has nothing to
        // answer: the failed reply is of no interest.
        send(cdp::Command{"Page.handleJavaScriptDialog", std::move(answer), "", 10000, ""},
             [](Result<json>) {});
        if (dialog_answered_) dialog_answered_(info, accept, by);
      });
  if (events_) {
    events_->emit("dialog", dialog->info().to_json());
    if (alive.expired()) return;
  }
  if (dialog_decider_ && dialog_decider_(dialog)) return;
  dialog->answer_by_policy();
}

void Page::on_session_end(const Error& why) {
  const bool first = !gone_.has_value();
  gone_ = why;
  std::weak_ptr<bool> alive = alive_;
  if (first && events_) {
    events_->emit("close", {{"kind", std::string(kind_name(why.kind))}, {"reason", why.message}});
    if (alive.expired()) return;
  }
  while (!waits_.empty()) {
    Error error = why;
    error.op = waits_.front()->op;
    finish_wait(waits_.front().get(), std::move(error));
    if (alive.expired()) return;
  }
  auto handlers = gone_handlers_;
  for (auto& [id, handler] : handlers) {
    handler(why);
    if (alive.expired()) return;
  }
}

uint64_t Page::on_gone(std::function<void(const Error&)> handler) {
  const uint64_t id = next_gone_handler_++;
  gone_handlers_.emplace(id, std::move(handler));
  return id;
}

void Page::remove_gone_handler(uint64_t id) { gone_handlers_.erase(id); }

Result<json> Page::unwrap_remote_object(Result<json> reply, const std::string& op) {
  if (!reply) return reply;
  const json& r = reply.value();
  if (auto details = r.find("exceptionDetails"); details != r.end()) {
    std::string message = cdp::string_field(*details, "text", "exception");
    if (details->is_object()) {
      if (auto ex = details->find("exception"); ex != details->end()) {
        message = cdp::string_field(*ex, "description", message);
      }
    }
    return Error{Kind::js_exception, message, op, *details};
  }
  const auto result = r.find("result");
  const json& object = result != r.end() ? *result : r;
  if (!object.is_object()) {
    return Error{
        Kind::protocol, "CDP reply to Runtime.evaluate has a result that is no object", op, {}};
  }
  if (auto unserializable = object.find("unserializableValue"); unserializable != object.end()) {
    if (!unserializable->is_string()) {
      return Error{Kind::protocol,
                   "CDP reply to Runtime.evaluate has an unserializableValue that is no string",
                   op,
                   {}};
    }
    return unserializable_to_json(unserializable->get<std::string>());
  }
  if (auto value = object.find("value"); value != object.end()) return *value;
  return json(nullptr);  // undefined, functions, symbols
}

void Page::evaluate(const std::string& expression, uint64_t timeout_ms, std::string op, Done done) {
  json params = {{"expression", expression},
                 {"returnByValue", true},
                 {"awaitPromise", true},
                 {"userGesture", true}};
  send(cdp::Command{"Runtime.evaluate", std::move(params), "", timeout_ms, op},
       [op, done = std::move(done)](Result<json> reply) {
         done(unwrap_remote_object(std::move(reply), op));
       });
}

void Page::evaluate_handle(const std::string& expression, uint64_t timeout_ms, Done done) {
  send(cdp::Command{"Runtime.evaluate",
                    {{"expression", expression}, {"returnByValue", false}},
                    "",
                    timeout_ms,
                    ""},
       std::move(done));
}

void Page::close(uint64_t timeout_ms, Done done) {
  if (connection_alive_.expired()) {
    return done(cdp::transport_closed("the page's browser is gone", "Target.closeTarget"));
  }
  connection_.send(
      cdp::Command{"Target.closeTarget", {{"targetId", target_id_}}, "", timeout_ms, ""},
      std::move(done));
}

}  // namespace belay::browser
