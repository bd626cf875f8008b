#include "browser/page.hpp"

#include "browser/page_events.hpp"
#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"

#include <cmath>
#include <limits>

namespace belay::browser {
namespace {

constexpr size_t kRecentLifecycleKept = 64;
// How long a page that just missed a navigation deadline gets to answer
// Page.stopLoading before it counts as gone.
constexpr uint64_t kStopTimeoutMs = 2000;

// Chromium's lifecycle event names. networkIdle: no request for 500 ms.
const char* lifecycle_name(WaitUntil wait) {
  switch (wait) {
    case WaitUntil::domcontentloaded:
      return "DOMContentLoaded";
    case WaitUntil::networkidle:
      return "networkIdle";
    default:
      return "load";
  }
}

json unserializable_to_json(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text == "-0") return -0.0;
  return text;  // BigInt ("123n") has no JSON form: keep its text
}

}  // namespace

std::optional<WaitUntil> wait_until_from_name(std::string_view name) {
  if (name == "load") return WaitUntil::load;
  if (name == "domcontentloaded") return WaitUntil::domcontentloaded;
  if (name == "networkidle") return WaitUntil::networkidle;
  if (name == "none" || name == "commit") return WaitUntil::none;
  return std::nullopt;
}

struct Page::NavigationWait {
  Done done;
  std::string loader_id;      // wait for this loader, or ...
  std::string not_loader_id;  // ... for any loader but the current one (reload, history)
  std::string event_name;
  std::string op;
  uint64_t timeout_ms = 0;
  json result;
  UvHandle<uv_timer_t> timer;
};

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

FrameTracker& Page::frames() {
  if (!frames_) frames_ = std::make_unique<FrameTracker>(connection_, session_id_);
  return *frames_;
}

void Page::navigate(const std::string& url, NavigateOptions options, Done done) {
  if (options.op.empty()) options.op = "Page.navigate";
  uv_update_time(loop_);
  const uint64_t started = uv_now(loop_);
  std::weak_ptr<bool> alive = alive_;
  send(cdp::Command{"Page.navigate", {{"url", url}}, "", options.timeout_ms, options.op},
       [this, alive, url, options, started, done](Result<json> reply) {
         if (!reply)
           return alive.expired() ? done(std::move(reply))
                                  : stop_if_deadline(std::move(reply), done);
         if (alive.expired()) return done(cdp::session_detached("page was closed", options.op));
         const json& r = reply.value();
         const std::string error_text = cdp::string_field(r, "errorText");
         if (!error_text.empty()) {
           return done(Error{Kind::navigation_failed,
                             "navigation to " + url + " failed: " + error_text, options.op, r});
         }
         const std::string loader = cdp::string_field(r, "loaderId");
         json result = {
             {"url", url}, {"frameId", cdp::string_field(r, "frameId")}, {"loaderId", loader}};
         // No loader: a same-document navigation (a #hash); nothing to load.
         if (loader.empty() || options.wait == WaitUntil::none) return done(std::move(result));
         uv_update_time(loop_);
         NavigateOptions rest = options;
         const uint64_t spent = uv_now(loop_) - started;
         rest.timeout_ms = options.timeout_ms > spent ? options.timeout_ms - spent : 1;
         start_wait(loader, rest, done, std::move(result));
       });
}

void Page::reload(NavigateOptions options, Done done) {
  if (options.op.empty()) options.op = "Page.reload";
  std::string current;
  for (auto it = recent_lifecycle_.rbegin(); it != recent_lifecycle_.rend(); ++it) {
    if (it->name == "init") {
      current = it->loader_id;
      break;
    }
  }
  std::weak_ptr<bool> alive = alive_;
  // Only events from after the reload was sent can belong to its document.
  const uint64_t since = next_lifecycle_seq_;
  send(cdp::Command{"Page.reload", json::object(), "", options.timeout_ms, options.op},
       [this, alive, current, since, options, done](Result<json> reply) {
         if (!reply)
           return alive.expired() ? done(std::move(reply))
                                  : stop_if_deadline(std::move(reply), done);
         if (alive.expired()) return done(cdp::session_detached("page was closed", options.op));
         if (options.wait == WaitUntil::none) return done(json::object());
         start_wait("", options, done, json::object());
         waits_.back()->not_loader_id = current;
         // The new document's events may have come before this reply.
         const std::deque<LifecycleMark> marks = recent_lifecycle_;
         for (const auto& mark : marks) {
           if (mark.seq < since) continue;
           on_lifecycle({{"frameId", target_id_},
                         {"loaderId", mark.loader_id},
                         {"name", mark.name},
                         {"replay", true}});
           if (alive.expired()) return;
         }
       });
}

void Page::go_history(int delta, NavigateOptions options, Done done) {
  if (options.op.empty()) options.op = "Page.navigateToHistoryEntry";
  std::weak_ptr<bool> alive = alive_;
  send(
      cdp::Command{"Page.getNavigationHistory", json::object(), "", options.timeout_ms, options.op},
      [this, alive, delta, options, done](Result<json> reply) {
        if (!reply) return done(std::move(reply));
        if (alive.expired()) return done(cdp::session_detached("page was closed", options.op));
        const json& entries = cdp::array_field(reply.value(), "entries");
        const int64_t current_index = cdp::integer_field(reply.value(), "currentIndex", -1);
        // Like Puppeteer's goBack: nowhere to go is not an error.
        if (current_index < 0 || current_index >= static_cast<int64_t>(entries.size())) {
          return done(json(nullptr));
        }
        const int64_t index = current_index + delta;
        if (index < 0 || index >= static_cast<int64_t>(entries.size())) return done(json(nullptr));
        std::string current;
        for (auto it = recent_lifecycle_.rbegin(); it != recent_lifecycle_.rend(); ++it) {
          if (it->name == "init") {
            current = it->loader_id;
            break;
          }
        }
        const json entry = entries[static_cast<size_t>(index)];
        const int64_t entry_id = cdp::integer_field(entry, "id", -1);
        if (entry_id < 0) {
          return done(Error{Kind::protocol,
                            "CDP reply to Page.getNavigationHistory has an entry without an id",
                            options.op,
                            {}});
        }
        send(cdp::Command{"Page.navigateToHistoryEntry",
                          {{"entryId", entry_id}},
                          "",
                          options.timeout_ms,
                          options.op},
             [this, alive, current, options, entry, done](Result<json> r) {
               if (!r)
                 return alive.expired() ? done(std::move(r)) : stop_if_deadline(std::move(r), done);
               if (alive.expired())
                 return done(cdp::session_detached("page was closed", options.op));
               json result = {{"url", cdp::string_field(entry, "url")}};
               if (options.wait == WaitUntil::none) return done(std::move(result));
               start_wait("", options, done, std::move(result));
               waits_.back()->not_loader_id = current.empty() ? "-" : current;
             });
      });
}

void Page::start_wait(const std::string& loader_id, NavigateOptions options, Done done,
                      json result) {
  auto wait = std::make_unique<NavigationWait>();
  wait->done = std::move(done);
  wait->loader_id = loader_id;
  wait->event_name = lifecycle_name(options.wait);
  wait->op = options.op;
  wait->timeout_ms = options.timeout_ms;
  wait->result = std::move(result);
  uv_timer_init(loop_, wait->timer.get());
  NavigationWait* raw = wait.get();
  waits_.push_back(std::move(wait));
  // The timer finds its wait through the page's list, so a wait finished
  // by an event leaves no dangling pointer behind.
  raw->timer->data = this;
  uv_timer_start(
      raw->timer.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Page*>(t->data);
        if (self == nullptr) return;
        for (auto it = self->waits_.begin(); it != self->waits_.end(); ++it) {
          if ((*it)->timer.get() != t) continue;
          std::unique_ptr<NavigationWait> owned = std::move(*it);
          self->waits_.erase(it);
          Error error = deadline_passed("navigation", owned->timeout_ms, owned->op);
          self->stop_after_deadline(std::move(error), std::move(owned->done));
          return;
        }
      },
      options.timeout_ms, 0);
  if (!loader_id.empty()) {
    for (const auto& mark : recent_lifecycle_) {
      if (mark.loader_id == loader_id && mark.name == raw->event_name) {
        finish_wait(raw, raw->result);
        return;
      }
    }
  }
}

void Page::on_lifecycle(const json& params) {
  // An event with a field of the wrong type is the peer's fault: dropped,
  // never thrown (json::value would throw).
  for (const char* key : {"frameId", "loaderId", "name"}) {
    auto field = params.find(key);
    if (field != params.end() && !field->is_string()) return;
  }
  const std::string frame = cdp::string_field(params, "frameId");
  if (frame != target_id_) return;  // a child frame
  LifecycleMark mark{cdp::string_field(params, "loaderId"), cdp::string_field(params, "name"), 0};
  if (!params.contains("replay")) {
    mark.seq = next_lifecycle_seq_++;
    recent_lifecycle_.push_back(mark);
    if (recent_lifecycle_.size() > kRecentLifecycleKept) recent_lifecycle_.pop_front();
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto it = waits_.begin(); it != waits_.end();) {
    NavigationWait* wait = it->get();
    ++it;  // finish_wait erases the current element
    // A document committed after the navigation began that is not its own
    // replaced it (a script's redirect or reload while it loaded): its
    // loader never finishes, so the wait follows the page's new document,
    // as a person watching the tab would.
    if (!wait->loader_id.empty() && !params.contains("replay") && mark.name == "init" &&
        mark.loader_id != wait->loader_id) {
      wait->loader_id = mark.loader_id;
    }
    const bool loader_matches = wait->loader_id.empty() ? (mark.loader_id != wait->not_loader_id)
                                                        : (mark.loader_id == wait->loader_id);
    if (loader_matches && mark.name == wait->event_name) {
      finish_wait(wait, wait->result);
      if (alive.expired()) return;
    }
  }
}

void Page::finish_wait(NavigationWait* wait, Result<json> result) {
  for (auto it = waits_.begin(); it != waits_.end(); ++it) {
    if (it->get() != wait) continue;
    std::unique_ptr<NavigationWait> owned = std::move(*it);
    waits_.erase(it);
    owned->done(std::move(result));
    return;
  }
}

// Chromium holds a tab's session while a navigation waits for a server that
// does not answer: without a stop, the page's next call (an evaluate, the
// heartbeat's probe) waited out its own deadline. So a navigation past its
// deadline is stopped at once, and the error says so. A page that does not
// answer the stop either is reported gone (kind timeout), as a heartbeat
// would find it, only sooner: a run replaces it (ProfileWorker), so the
// item's next try has a working tab.
void Page::stop_after_deadline(Error error, Done done) {
  std::weak_ptr<bool> alive = alive_;
  send(cdp::Command{"Page.stopLoading", json::object(), "", kStopTimeoutMs, error.op},
       [this, alive, error, done](Result<json> stopped) mutable {
         if (stopped) {
           error.message += "; belay stopped the pending navigation (the page is usable)";
         } else if (stopped.error().kind == Kind::timeout && !alive.expired()) {
           error.message += "; the page did not answer Page.stopLoading within " +
                            std::to_string(kStopTimeoutMs) +
                            " ms either, so it is reported gone (a run replaces the tab)";
           on_session_end(Error{
               Kind::timeout, "the page stopped answering after a navigation deadline", "", {}});
         } else {
           error.message += "; stopping the navigation failed: " + stopped.error().message;
         }
         done(std::move(error));
       });
}

void Page::stop_if_deadline(Result<json> failed, const Done& done) {
  if (failed.error().kind != Kind::timeout) return done(std::move(failed));
  stop_after_deadline(failed.error(), done);
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
