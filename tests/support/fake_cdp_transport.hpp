#pragma once
// A CDP peer the test scripts by hand. Only for the faults Chromium cannot
// be made to send on demand (garbage frames, unknown ids, fields of the
// wrong type, replies that never come); every test that uses it says so.

#include "cdp/transport.hpp"
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace belay::test {

class FakeCdpTransport final : public cdp::Transport {
 public:
  void set_sink(Sink* sink) override { sink_ = sink; }
  void send(std::string message) override { sent.push_back(nlohmann::json::parse(message)); }
  void close() override {
    if (!open_) return;
    open_ = false;
    if (sink_ != nullptr) sink_->on_closed(transport_closed_error);
  }
  bool is_open() const override { return open_; }
  std::string_view name() const override { return "fake"; }

  void deliver(const std::string& raw) { sink_->on_message(raw); }
  void drop(const Error& why) {
    open_ = false;
    sink_->on_closed(why);
  }
  // Answers the latest command sent with `method`, with `result` as it is
  // (any JSON text). False when no such command was sent.
  bool reply(const std::string& method, const std::string& result) {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if ((*it)["method"] != method) continue;
      deliver("{\"id\":" + (*it)["id"].dump() + ",\"result\":" + result + "}");
      return true;
    }
    return false;
  }
  size_t count(const std::string& method) const {
    size_t n = 0;
    for (const auto& m : sent) n += m["method"] == method ? 1 : 0;
    return n;
  }

  std::vector<nlohmann::json> sent;
  Error transport_closed_error{Kind::browser_disconnected, "closed", "", {}};

 private:
  Sink* sink_ = nullptr;
  bool open_ = true;
};

}  // namespace belay::test
