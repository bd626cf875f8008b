// CDP dispatch: a Connection over a fake transport, driven by a script of
// commands sent, messages received (replies, events, unknown ids, wrong
// types, garbage), cancels, deadlines, closes and browser exits, with
// handlers that re-enter the connection (send, unsubscribe, close, even
// destroy it) from inside its callbacks. Checks that no exception escapes,
// every command completes at most once, and exactly once unless its
// connection was destroyed under it (a command in flight is then dropped),
// errors carry the command's op and a kind a reply can have, and every
// message sent is valid JSON.
//
// Input: lines (see tests/fuzz/README.md):
//   >METHOD [SESSION|- [TIMEOUT_MS [ACTION]]]   send a command
//   <JSON                                       the browser sends JSON
//   u SESSION|- METHOD|* ACTION                 subscribe to events
//   h ACTION                                    a session-end handler
//   c ID   cancel    t  loop turn    x  transport drops    e  browser exits
//   q  close         z  destroy the connection
// ACTION: n nothing, s send, u unsubscribe (self), q close, e exit, z destroy.

#include "cdp/classify.hpp"
#include "cdp/connection.hpp"
#include "chrome/chrome_process.hpp"
#include "fuzz_targets.hpp"

#include <cstdlib>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace belay::fuzz {
namespace {

using cdp::Connection;
using cdp::json;

class FakeTransport final : public cdp::Transport {
 public:
  void set_sink(Sink* sink) override { sink_ = sink; }
  void send(std::string message) override {
    if (!open_) return;
    FUZZ_CHECK_MSG(json::accept(message), message);
  }
  void close() override {
    if (!open_) return;
    open_ = false;
    close_due_ = true;  // on_closed comes from the loop, as with the real ones
  }
  bool is_open() const override { return open_; }
  std::string_view name() const override { return "fake"; }

  // The harness's loop turn: a due on_closed, like the real transports' idle.
  void pump() {
    if (!close_due_) return;
    close_due_ = false;
    deliver_close("connection closed by belay");
  }
  void deliver(std::string_view message) {
    if (open_ && sink_ != nullptr) sink_->on_message(message);
  }
  void drop() {
    if (!open_) return;
    open_ = false;
    deliver_close("pipe closed by the browser");
  }

 private:
  void deliver_close(const char* why) {
    FUZZ_CHECK(!closed_);
    closed_ = true;
    Sink* sink = sink_;
    sink_ = nullptr;
    if (sink != nullptr) sink->on_closed(cdp::transport_closed(why));
  }

  Sink* sink_ = nullptr;
  bool open_ = true;
  bool close_due_ = false;
  bool closed_ = false;
};

struct Call {
  std::string method;
  int completions = 0;
  // Not complete when its connection was destroyed: a command in flight is
  // dropped then, a refused one still completes (with its refusal).
  bool abandoned = false;
};

bool reply_kind(Kind kind) {
  switch (kind) {
    case Kind::context_destroyed:
    case Kind::target_closed:
    case Kind::target_crashed:
    case Kind::browser_disconnected:
    case Kind::timeout:
    case Kind::navigation_failed:
    case Kind::protocol:
    case Kind::cancelled:
      return true;
    default:
      return false;
  }
}

class Harness {
 public:
  Harness() {
    uv_loop_init(&loop_);
    auto transport = std::make_unique<FakeTransport>();
    fake_ = transport.get();
    connection_ = std::make_unique<Connection>(&loop_, std::move(transport));
  }

  ~Harness() {
    if (connection_) {
      connection_->close();
      // Refusals of commands sent from callbacks complete from the loop.
      for (int i = 0; i < 8 && connection_; ++i) turn();
      for (const Call& call : calls_) {
        FUZZ_CHECK_MSG(call.completions == 1 || call.abandoned, call.method);
      }
      FUZZ_CHECK(connection_ == nullptr || connection_->pending_count() == 0);
      destroy();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    FUZZ_CHECK(uv_loop_close(&loop_) == 0);
  }

  void run_line(std::string_view line) {
    if (line.empty()) return;
    const char op = line[0];
    std::string_view rest = line.substr(1);
    if (op == '<') {
      if (connection_) fake_->deliver(rest);
      return;
    }
    std::istringstream words{std::string(rest)};
    if (op == '>') {
      std::string method, session, timeout, action;
      words >> method >> session >> timeout >> action;
      send(method, session == "-" ? "" : session, timeout.empty() ? 30000 : number(timeout),
           action.empty() ? 'n' : action[0]);
    } else if (op == 'u') {
      std::string session, method, action;
      words >> session >> method >> action;
      subscribe(session == "-" ? "" : session, method == "*" ? "" : method,
                action.empty() ? 'n' : action[0]);
    } else if (op == 'h') {
      std::string action;
      words >> action;
      on_session_end(action.empty() ? 'n' : action[0]);
    } else if (op == 'c') {
      std::string id;
      words >> id;
      if (connection_) {
        connection_->cancel(number(id), Error{Kind::cancelled, "cancelled by the fuzzer", "", {}});
      }
    } else {
      act(op);
    }
  }

 private:
  static uint64_t number(const std::string& text) {
    return std::strtoull(text.substr(0, 12).c_str(), nullptr, 10);
  }

  void turn() {
    if (connection_) fake_->pump();
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

  void destroy() {
    connection_.reset();
    for (Call& call : calls_) call.abandoned = call.abandoned || call.completions == 0;
  }

  // What a handler or the script does to the connection.
  void act(char action) {
    if (action == 't') {
      turn();
      return;
    }
    if (!connection_) return;
    switch (action) {
      case 's':
        send("Handler.send", "", 30000, 'n');
        break;
      case 'q':
        connection_->close();
        break;
      case 'e':
        connection_->browser_exited(chrome::browser_exited(0, 9));
        break;
      case 'x':
        fake_->drop();
        break;
      case 'z':
        destroy();
        break;
      default:
        break;
    }
  }

  void send(const std::string& method, const std::string& session, uint64_t timeout_ms,
            char action) {
    if (!connection_ || calls_.size() >= 10000) return;
    const size_t index = calls_.size();
    calls_.push_back({method});
    connection_->send(cdp::Command{method, json::object(), session, timeout_ms % 60001, ""},
                      [this, index, action](Result<json> result) {
                        Call& call = calls_[index];
                        FUZZ_CHECK_MSG(++call.completions == 1, call.method);
                        if (!result.ok()) {
                          FUZZ_CHECK(reply_kind(result.error().kind));
                          FUZZ_CHECK_MSG(result.error().op == call.method, result.error().op);
                        }
                        act(action);
                      });
  }

  void subscribe(const std::string& session, const std::string& method, char action) {
    if (!connection_) return;
    auto id = std::make_shared<uint64_t>(0);
    *id = connection_->subscribe(session, method,
                                 [this, id, action](const std::string&, const json& params) {
                                   FUZZ_CHECK(params.is_object());
                                   if (action == 'u') {
                                     if (connection_) connection_->unsubscribe(*id);
                                   } else {
                                     act(action);
                                   }
                                 });
  }

  void on_session_end(char action) {
    if (!connection_) return;
    auto id = std::make_shared<uint64_t>(0);
    *id = connection_->on_session_end([this, id, action](const cdp::SessionEnd& end) {
      FUZZ_CHECK(!end.why.message.empty());
      if (action == 'u') {
        if (connection_) connection_->remove_session_end_handler(*id);
      } else {
        act(action);
      }
    });
  }

  uv_loop_t loop_{};
  FakeTransport* fake_ = nullptr;  // owned by connection_
  std::unique_ptr<Connection> connection_;
  std::deque<Call> calls_;
};

}  // namespace

int fuzz_cdp_dispatch(const uint8_t* data, size_t size) {
  const std::string_view script(reinterpret_cast<const char*>(data), size);
  Harness harness;
  size_t start = 0;
  for (size_t lines = 0; start <= script.size() && lines < 2000; ++lines) {
    size_t end = script.find('\n', start);
    if (end == std::string_view::npos) end = script.size();
    harness.run_line(script.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}

}  // namespace belay::fuzz
