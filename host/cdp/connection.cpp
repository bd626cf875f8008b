#include "cdp/connection.hpp"

#include "cdp/classify.hpp"
#include "cdp/command_text.hpp"
#include "cdp/reply_fields.hpp"
#include "core/json_text.hpp"

#include <utility>
#include <vector>

namespace belay::cdp {
namespace {

constexpr size_t kEndedSessionsKept = 1024;

// While a target is crashed only these can bring it back or put it away;
// anything else would wait for a renderer that is not there.
bool allowed_while_crashed(const std::string& method) {
  return method == "Page.navigate" || method == "Page.reload" || method == "Page.close" ||
         method.rfind("Target.", 0) == 0;
}

}  // namespace

Connection::Connection(uv_loop_t* loop, std::unique_ptr<Transport> transport)
    : loop_(loop), transport_(std::move(transport)) {
  uv_timer_init(loop_, deadline_timer_.get());
  deadline_timer_->data = this;
  uv_idle_init(loop_, deferred_idle_.get());
  deferred_idle_->data = this;
  transport_->set_sink(this);
  open_ = transport_->is_open();
}

Connection::~Connection() {
  alive_.reset();
  transport_->set_sink(nullptr);
  // A refusal already decided but not yet delivered is owed to its caller
  // (a script waiting on it would wait forever); it gets no `this`.
  auto deferred = std::move(deferred_);
  for (auto& [done, error] : deferred) done(std::move(error));
  // Nobody is left to call back into for the rest: owners destroy the
  // connection only once they no longer wait on it.
  pending_.clear();
}

uint64_t Connection::send(Command command, ReplyCallback done) {
  const uint64_t id = next_id_++;
  if (recording_ != nullptr) recording_->push_back(id);
  std::optional<Error> refuse;
  if (!open_) {
    refuse = closed_because_ ? *closed_because_ : transport_closed("connection is closed");
  } else if (auto ended = ended_sessions_.find(command.session_id);
             !command.session_id.empty() && ended != ended_sessions_.end()) {
    refuse = ended->second;
  } else if (crashed_sessions_.count(command.session_id) != 0 &&
             !allowed_while_crashed(command.method)) {
    refuse = target_crashed();
  }
  if (refuse) {
    refuse->op = command.op.empty() ? command.method : command.op;
    // Never call back from inside send(): the caller may not be ready.
    deferred_.emplace_back(std::move(done), std::move(*refuse));
    uv_idle_start(deferred_idle_.get(), [](uv_idle_t* idle) {
      if (idle->data != nullptr) static_cast<Connection*>(idle->data)->run_deferred();
    });
    return id;
  }
  std::string text = command_text(id, command.method, command.params, command.session_id);
  uv_update_time(loop_);
  const uint64_t deadline = uv_now(loop_) + command.timeout_ms;
  pending_.emplace(
      id, Pending{std::move(done), std::move(command.session_id), std::move(command.method),
                  std::move(command.op), deadline, command.timeout_ms});
  deadlines_.emplace(deadline, id);
  if (deadlines_.begin()->second == id) arm_deadline_timer();
  transport_->send(std::move(text));
  return id;
}

void Connection::run_deferred() {
  uv_idle_stop(deferred_idle_.get());
  std::deque<std::pair<ReplyCallback, Error>> ready;
  ready.swap(deferred_);
  // All of them, even if one destroys this connection: each is owed its end.
  for (auto& [done, error] : ready) done(std::move(error));
}

bool Connection::cancel(uint64_t id, const Error& why) {
  if (pending_.count(id) == 0) return false;
  Error error = why;
  if (error.op.empty()) error.op = op_of(pending_.at(id));
  complete(id, std::move(error));
  return true;
}

std::vector<uint64_t> Connection::commands_sent_by(const std::function<void()>& start) {
  std::vector<uint64_t> ids;
  std::vector<uint64_t>* outer = recording_;
  recording_ = &ids;
  start();
  recording_ = outer;
  if (outer != nullptr) outer->insert(outer->end(), ids.begin(), ids.end());
  return ids;
}

uint64_t Connection::subscribe(const std::string& session_id, const std::string& method,
                               EventHandler handler) {
  const uint64_t id = next_subscription_++;
  subscriptions_.emplace(id, Subscription{session_id, method, std::move(handler)});
  return id;
}

void Connection::unsubscribe(uint64_t subscription) { subscriptions_.erase(subscription); }

uint64_t Connection::on_session_end(SessionEndHandler handler) {
  const uint64_t id = next_subscription_++;
  session_end_handlers_.emplace(id, std::move(handler));
  return id;
}

void Connection::remove_session_end_handler(uint64_t id) { session_end_handlers_.erase(id); }

void Connection::on_message(std::string_view message) {
  json parsed = parse_json_or_discard(message);
  if (parsed.is_discarded() || !parsed.is_object()) {
    on_transport_error(
        protocol_error("unparseable CDP message (" + std::to_string(message.size()) + " bytes)"));
    return;
  }
  auto id = parsed.find("id");
  if (id != parsed.end()) {
    if (!id->is_number_unsigned()) {
      on_transport_error(protocol_error("CDP reply with a non-numeric id"));
      return;
    }
    const auto reply_id = id->get<uint64_t>();  // before `parsed` is moved from
    dispatch_reply(reply_id, std::move(parsed));
    return;
  }
  auto method = parsed.find("method");
  if (method == parsed.end() || !method->is_string()) {
    on_transport_error(protocol_error("CDP message with neither id nor method"));
    return;
  }
  std::string session_id;
  if (auto s = parsed.find("sessionId"); s != parsed.end() && s->is_string()) {
    session_id = s->get<std::string>();
  }
  static const json kNoParams = json::object();
  auto params = parsed.find("params");
  const json& p = (params != parsed.end() && params->is_object()) ? *params : kNoParams;
  const std::string name = method->get<std::string>();
  std::weak_ptr<bool> alive = alive_;
  dispatch_event(name, session_id, p);
  if (alive.expired()) return;
  track_session_lifecycle(name, session_id, p);
}

void Connection::dispatch_reply(uint64_t id, json message) {
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    ++dropped_replies_;  // its deadline already passed, or it was cancelled
    return;
  }
  auto error = message.find("error");
  if (error != message.end()) {
    complete(id, classify_cdp_error(*error, op_of(it->second)));
    return;
  }
  auto result = message.find("result");
  if (result != message.end() && !result->is_object()) {
    // Every CDP result is an object; the callers read fields from it.
    complete(id,
             protocol_error("CDP reply with a result that is not an object", op_of(it->second)));
    return;
  }
  // Moved, not copied: a reply may be a whole page's text or a screenshot.
  complete(id, result != message.end() ? std::move(*result) : json::object());
}

void Connection::dispatch_event(const std::string& method, const std::string& session_id,
                                const json& params) {
  // Handlers may subscribe or unsubscribe while we iterate: walk a snapshot
  // of ids and look each up again.
  std::vector<uint64_t> ids;
  for (const auto& [sid, sub] : subscriptions_) {
    if (sub.session_id == session_id && (sub.method.empty() || sub.method == method)) {
      ids.push_back(sid);
    }
  }
  std::weak_ptr<bool> alive = alive_;
  for (uint64_t sid : ids) {
    auto it = subscriptions_.find(sid);
    if (it == subscriptions_.end()) continue;
    EventHandler handler = it->second.handler;  // a copy survives unsubscribe
    handler(method, params);
    if (alive.expired()) return;
  }
}

void Connection::track_session_lifecycle(const std::string& method, const std::string& session_id,
                                         const json& params) {
  if (method == "Target.detachedFromTarget") {
    const std::string gone = string_field(params, "sessionId", "");
    if (!gone.empty()) end_session(gone, session_detached("the target's session was detached"));
  } else if (method == "Inspector.detached" && !session_id.empty()) {
    end_session(session_id, session_detached("inspector detached: " +
                                             string_field(params, "reason", "unknown")));
  } else if (method == "Inspector.targetCrashed" && !session_id.empty()) {
    crashed_sessions_.insert(session_id);
    const Error crashed = target_crashed();
    std::weak_ptr<bool> alive = alive_;
    fail_where([&](const Pending& p) { return p.session_id == session_id; }, crashed);
    if (alive.expired()) return;  // a command's callback destroyed the connection
    auto handlers = session_end_handlers_;
    for (auto& [hid, handler] : handlers) {
      handler(SessionEnd{session_id, crashed});
      if (alive.expired()) return;
    }
  } else if (method == "Inspector.targetReloadedAfterCrash") {
    crashed_sessions_.erase(session_id);
  }
}

void Connection::end_session(const std::string& session_id, const Error& why) {
  if (ended_sessions_.count(session_id) != 0) return;
  ended_sessions_.emplace(session_id, why);
  ended_order_.push_back(session_id);
  if (ended_order_.size() > kEndedSessionsKept) {
    ended_sessions_.erase(ended_order_.front());
    ended_order_.pop_front();
  }
  crashed_sessions_.erase(session_id);
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    it = it->second.session_id == session_id ? subscriptions_.erase(it) : std::next(it);
  }
  std::weak_ptr<bool> alive = alive_;
  fail_where([&](const Pending& p) { return p.session_id == session_id; }, why);
  if (alive.expired()) return;
  auto handlers = session_end_handlers_;
  for (auto& [hid, handler] : handlers) {
    handler(SessionEnd{session_id, why});
    if (alive.expired()) return;
  }
}

void Connection::on_transport_error(const Error& error) {
  ++protocol_errors_;
  // A garbage frame carries no id we could trust, so no command fails for
  // it; the command it belonged to (if any) ends by its deadline.
  if (protocol_error_handler_) protocol_error_handler_(error);
}

void Connection::on_closed(const Error& why) {
  open_ = false;
  if (!closed_because_) closed_because_ = why;
  std::weak_ptr<bool> alive = alive_;
  fail_all(*closed_because_);
  if (alive.expired()) return;
  end_all_sessions(*closed_because_);
  if (alive.expired()) return;
  deadline_timer_.reset();
  if (close_handler_) {
    CloseHandler handler = std::move(close_handler_);
    close_handler_ = nullptr;
    handler(*closed_because_);
  }
}

void Connection::browser_exited(const Error& why) {
  // The exit is the better reason than the EOF that usually follows it.
  if (!closed_because_) closed_because_ = why;
  if (open_) {
    open_ = false;
    transport_->close();
  }
  std::weak_ptr<bool> alive = alive_;
  fail_all(why);
  if (!alive.expired()) end_all_sessions(why);
}

// What waits on a session beyond its commands (a navigation waiting for
// its document) ends with the connection too, not at its own deadline.
void Connection::end_all_sessions(const Error& why) {
  if (all_sessions_ended_) return;
  all_sessions_ended_ = true;
  std::weak_ptr<bool> alive = alive_;
  auto handlers = session_end_handlers_;
  for (auto& [hid, handler] : handlers) {
    handler(SessionEnd{"", why});
    if (alive.expired()) return;
  }
}

void Connection::close() {
  if (!open_) return;
  open_ = false;
  if (!closed_because_) closed_because_ = transport_closed("connection closed by belay");
  transport_->close();
}

void Connection::complete(uint64_t id, Result<json> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ReplyCallback done = std::move(it->second.done);
  deadlines_.erase({it->second.deadline, id});
  pending_.erase(it);
  done(std::move(result));
}

void Connection::fail_where(const std::function<bool(const Pending&)>& match, const Error& why) {
  std::vector<uint64_t> ids;
  for (const auto& [id, p] : pending_) {
    if (match(p)) ids.push_back(id);
  }
  std::weak_ptr<bool> alive = alive_;
  for (uint64_t id : ids) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    Error error = why;
    error.op = op_of(it->second);
    complete(id, std::move(error));
    if (alive.expired()) return;
  }
}

void Connection::fail_all(const Error& why) {
  fail_where([](const Pending&) { return true; }, why);
}

void Connection::arm_deadline_timer() {
  if (!deadline_timer_.initialized() || deadlines_.empty()) return;
  const uint64_t now = uv_now(loop_);
  const uint64_t first = deadlines_.begin()->first;
  uv_timer_start(
      deadline_timer_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<Connection*>(t->data)->on_deadline();
      },
      first > now ? first - now : 0, 0);
}

void Connection::on_deadline() {
  const uint64_t now = uv_now(loop_);
  std::weak_ptr<bool> alive = alive_;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t id = deadlines_.begin()->second;
    const Pending& p = pending_.at(id);
    complete(id, deadline_passed(p.method, p.timeout_ms, op_of(p)));
    if (alive.expired()) return;
  }
  arm_deadline_timer();
}

}  // namespace belay::cdp
