#pragma once
// One CDP connection to one browser: command ids, a deadline on every
// command, flattened sessions and per-session event subscriptions. When the
// transport closes or the browser exits, every pending command completes at
// once with browser_disconnected.

#include "cdp/transport.hpp"
#include "core/error.hpp"
#include "core/uv_handle.hpp"

#include <uv.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace belay::cdp {

using json = nlohmann::json;

struct Command {
  std::string method;
  json params = json::object();
  std::string session_id;  // empty: the browser target
  uint64_t timeout_ms = 30000;
  std::string op;  // error.op: what the caller called it; empty: the method

  const std::string& op_or_method() const { return op.empty() ? method : op; }
};

// Why a session ended; carried to its watchers.
struct SessionEnd {
  std::string session_id;  // empty: the connection closed, ending every session
  Error why;
};

class Connection final : private Transport::Sink {
 public:
  using ReplyCallback = std::function<void(Result<json>)>;
  using EventHandler = std::function<void(const std::string& method, const json& params)>;
  using SessionEndHandler = std::function<void(const SessionEnd&)>;
  using CloseHandler = std::function<void(const Error&)>;

  Connection(uv_loop_t* loop, std::unique_ptr<Transport> transport);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends a command; `done` runs exactly once: reply, deadline, session end
  // or disconnect — whichever comes first. Returns the command id.
  uint64_t send(Command command, ReplyCallback done);
  // Completes a pending command now with `why` (Ctrl-C, shutdown). A reply
  // arriving later is dropped.
  bool cancel(uint64_t id, const Error& why);
  // Runs `start` and returns the ids of the commands sent while it ran, so
  // that whoever started them can cancel() them if it gives up (a script's
  // call that was cancelled leaves nothing pending).
  std::vector<uint64_t> commands_sent_by(const std::function<void()>& start);

  // Events of one session ("" = browser); method "" = every event.
  uint64_t subscribe(const std::string& session_id, const std::string& method,
                     EventHandler handler);
  void unsubscribe(uint64_t subscription);
  // Session ends: detached, target crashed, inspector detached.
  uint64_t on_session_end(SessionEndHandler handler);
  void remove_session_end_handler(uint64_t id);
  void on_close(CloseHandler handler) { close_handler_ = std::move(handler); }
  // A message dropped as garbage (not JSON, no id or method, an oversized
  // pipe frame): the connection goes on, and whoever owns it tells the user.
  void on_protocol_error(CloseHandler handler) { protocol_error_handler_ = std::move(handler); }

  // The browser process exited: fail everything with that reason and close.
  void browser_exited(const Error& why);
  void close();
  bool is_open() const { return open_; }
  std::string_view transport_name() const { return transport_->name(); }

  // Expires when the connection is destroyed: pages outlive it safely.
  std::weak_ptr<bool> alive_token() const { return alive_; }
  size_t pending_count() const { return pending_.size(); }
  uint64_t dropped_replies() const { return dropped_replies_; }
  uint64_t protocol_errors() const { return protocol_errors_; }

 private:
  struct Pending {
    ReplyCallback done;
    std::string session_id;
    std::string method;
    std::string op;
    uint64_t deadline;
    uint64_t timeout_ms;
  };
  struct Subscription {
    std::string session_id;
    std::string method;
    EventHandler handler;
  };

  void on_message(std::string_view message) override;
  void on_transport_error(const Error& error) override;
  void on_closed(const Error& why) override;
  void end_all_sessions(const Error& why);

  void dispatch_reply(uint64_t id, json message);
  void dispatch_event(const std::string& method, const std::string& session_id, const json& params);
  void track_session_lifecycle(const std::string& method, const std::string& session_id,
                               const json& params);
  void end_session(const std::string& session_id, const Error& why);
  void complete(uint64_t id, Result<json> result);
  void fail_where(const std::function<bool(const Pending&)>& match, const Error& why);
  void fail_all(const Error& why);
  void run_deferred();
  void arm_deadline_timer();
  void on_deadline();
  std::string op_of(const Pending& p) const { return p.op.empty() ? p.method : p.op; }

  uv_loop_t* loop_;
  std::unique_ptr<Transport> transport_;
  UvHandle<uv_timer_t> deadline_timer_;
  UvHandle<uv_idle_t> deferred_idle_;  // refusals complete from the loop, not inside send()
  std::deque<std::pair<ReplyCallback, Error>> deferred_;
  bool open_ = true;
  std::optional<Error> closed_because_;
  uint64_t next_id_ = 1;
  uint64_t next_subscription_ = 1;
  std::unordered_map<uint64_t, Pending> pending_;
  std::vector<uint64_t>* recording_ = nullptr;         // commands_sent_by()
  std::set<std::pair<uint64_t, uint64_t>> deadlines_;  // (deadline ms, id)
  std::map<uint64_t, Subscription> subscriptions_;
  std::map<uint64_t, SessionEndHandler> session_end_handlers_;
  bool all_sessions_ended_ = false;
  std::map<std::string, Error> ended_sessions_;  // commands to these fail at once
  std::deque<std::string> ended_order_;          // bounds ended_sessions_
  std::set<std::string> crashed_sessions_;
  CloseHandler close_handler_;
  CloseHandler protocol_error_handler_;
  uint64_t dropped_replies_ = 0;
  uint64_t protocol_errors_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::cdp
