#pragma once
// The heartbeat of one profile's browser: every `interval_ms` a cheap probe
// of the browser (Browser.getVersion) and of each of its pages
// (Runtime.evaluate("1")), each with `timeout_ms`. A crashed renderer does
// not always say so on Linux and a stopped or wedged browser says nothing
// at all; only an unanswered probe shows them.
//
// A page that misses while the browser answered is confirmed by one more
// browser probe before it is told: a browser stopped between its own
// answer and the page's leaves the page silent too, and that is the
// browser's miss.
//
// The monitor only observes: what a miss leads to (a restart, a new page)
// is the worker's decision.

#include "browser/browser_session.hpp"
#include "campaign/config.hpp"
#include "core/timer.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace belay::campaign {

class HealthMonitor {
 public:
  struct Handlers {
    std::function<void(uint64_t browser_ms)> beat;  // the browser answered
    std::function<void(const Error& why)> browser_missed;
    // A page did not answer (or its renderer crashed) while the browser did.
    std::function<void(const std::shared_ptr<browser::Page>& page, const Error& why)> page_missed;
  };

  HealthMonitor(uv_loop_t* loop, HealthConfig config, Handlers handlers);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void set_handlers(Handlers handlers) { handlers_ = std::move(handlers); }
  // Starts beating for `session`; a second call restarts the interval.
  void watch(std::shared_ptr<browser::BrowserSession> session);
  void stop();

 private:
  struct Round;
  void schedule();
  void beat();
  void finish(const std::shared_ptr<Round>& round);
  void end_round();
  void probe_browser(browser::BrowserSession& session, std::function<void(Result<cdp::json>)> done);
  std::shared_ptr<browser::BrowserSession> current(const Round& round) const;

  uv_loop_t* loop_;
  HealthConfig config_;
  Handlers handlers_;
  Timer timer_;
  std::weak_ptr<browser::BrowserSession> session_;
  bool probing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Whether a probe's error means "no answer": a deadline or a crash, not a
// page that was merely navigating.
bool is_missed_beat(const Error& error);

}  // namespace belay::campaign
