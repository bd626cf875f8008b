// ProfileWorker's supervisor half: what happens when its browser exits,
// hangs or crashes a page, how a restart is carried out (the budget's
// verdict, the screenshot, the `restarting` event) and when a soft restart
// or the fatal state follows. The rules themselves are RestartBudget's and
// SoftRestart's; the rest of the worker is in profile_worker.cpp.

#include "browser/page_actions.hpp"
#include "campaign/profile_worker.hpp"
#include "chrome/process_memory.hpp"

namespace belay::campaign {
namespace {

constexpr uint64_t kScreenshotTimeoutMs = 5000;
// Longer than this, a wait is announced with a `waiting` event (as
// scripts/belay/attempt.lua does for the ladder's): a run is never silent.
constexpr uint64_t kAnnounceWaitsOverMs = 1000;


}  // namespace

// Every restart but a soft one counts against max_restarts, and leaves a
// screenshot of the page as it was and a `restarting` event.
void ProfileWorker::before_restart(std::function<void()> proceed,
                                   std::function<void(Error)> refuse) {
  const RestartReason reason = restart_reason_.value_or(RestartReason::script);
  restart_reason_.reset();
  if (reason == RestartReason::soft) return proceed();
  if (!budget_.try_spend(uv_now(run_.loop))) {
    const std::string why = budget_.fatal_reason();
    go_fatal(why);
    return refuse(unavailable("fatal: " + why, "restart"));
  }
  ++record_.restarts;
  save_profile();
  const int n = record_.restarts;
  const std::string shot = "restart-" + profile_.name + "-" + std::to_string(n) + ".png";
  auto announce = [this, n, reason, shot, proceed](bool shot_taken) {
    event("restarting", {{"scope", "browser"},
                         {"restart", n},
                         {"reason", reason_text(reason)},
                         {"screenshot", shot_taken ? nlohmann::json(shot) : nullptr}});
    proceed();
  };
  // A hung browser would only make the screenshot wait for its deadline.
  if (reason == RestartReason::hung) return announce(false);
  screenshot_then(shot, announce);
}

void ProfileWorker::screenshot_then(const std::string& name, std::function<void(bool)> then) {
  auto page = session_->connected() ? session_->current_page() : nullptr;
  if (!page) return then(false);
  std::weak_ptr<bool> alive = alive_;
  browser::screenshot(*page, run_.options.state_dir + "/screenshots/" + name, kScreenshotTimeoutMs,
                      [alive, then = std::move(then)](Result<nlohmann::json> r) {
                        if (!alive.expired()) then(r.ok());
                      });
}

void ProfileWorker::on_browser_exit(const Error& why) {
  event("browser_exit", {{"reason", why.message}, {"pid", session_->pid()}});
  if (stopping_ || state_ == State::fatal || state_ == State::paused) return;
  // Also under an item: its calls fail with browser_disconnected now, and
  // its next try or ladder step waits for the relaunch (when_ready).
  supervise(RestartReason::disconnected);
}

void ProfileWorker::on_heartbeat_missed(const Error& why) {
  event("heartbeat_missed", {{"target", "browser"},
                             {"pid", session_->pid()},
                             {"timeout_ms", run_.config.health.timeout_ms},
                             {"error", why.to_string()}});
  if (stopping_ || state_ == State::fatal || state_ == State::paused) return;
  supervise(RestartReason::hung);
}

void ProfileWorker::on_page_missed(const std::shared_ptr<browser::Page>& page, const Error& why) {
  event("heartbeat_missed", {{"target", "page"},
                             {"target_id", page->target_id()},
                             {"timeout_ms", run_.config.health.timeout_ms},
                             {"error", why.to_string()}});
  replace_page(page, why);
}

void ProfileWorker::replace_page(const std::shared_ptr<browser::Page>& page, const Error& why) {
  if (stopping_ || state_ == State::fatal || state_ == State::paused) return;
  std::weak_ptr<bool> alive = alive_;
  ++pages_being_replaced_;
  session_->replace_page(page, [this, alive, why](Result<std::shared_ptr<browser::Page>> fresh) {
    if (alive.expired()) return;
    // A browser restart begun meanwhile releases the waiters when it is done
    // (on_launched), a stop or a fatal profile with their error.
    if (--pages_being_replaced_ == 0 && !stopping_ && state_ != State::restarting &&
        state_ != State::starting && state_ != State::fatal) {
      fire_ready_waiters(std::nullopt);
    }
    if (fresh && fresh.value() == nullptr) return;
    event("restarting",
          {{"scope", "page"},
           {"reason", kind_name(why.kind)},
           {"message", why.message},
           {"error", fresh ? nlohmann::json(nullptr) : nlohmann::json(fresh.error().to_string())}},
          fresh ? "ok" : "fail");
  });
}

// The browser died, hung or failed to relaunch: its group is killed, then
// after a growing delay it is launched again.
void ProfileWorker::supervise(RestartReason reason, browser::RestartMode mode) {
  if (stopping_ || state_ == State::fatal || state_ == State::restarting) return;
  set_state(State::restarting, reason_text(reason));
  health_.stop();
  const uint64_t delay = budget_.next_delay_ms();
  if (delay > kAnnounceWaitsOverMs) {
    event("waiting", {{"what", "restart"},
                      {"why", "delay_ms before relaunching a browser that " +
                                  std::string(reason == RestartReason::hung ? "hung" : "died") +
                                  " (" + reason_text(reason) + ")"},
                      {"ms", delay},
                      {"until_ms", wall_ms() + static_cast<int64_t>(delay)}});
  }
  const uint64_t generation = session_->generation();
  std::weak_ptr<bool> alive = alive_;
  auto relaunched = [this, alive](std::optional<Error> error) {
    if (alive.expired() || stopping_) return;
    if (state_ == State::fatal) return fire_ready_waiters(error);  // over max_restarts
    state_ = State::starting;
    on_launched(std::move(error));
  };
  timer_.after(delay, [this, alive, reason, mode, generation, relaunched]() {
    if (alive.expired() || stopping_) return;
    // The script restarted the browser itself in the meantime.
    if (session_->generation() != generation && session_->connected() && !session_->restarting()) {
      return relaunched(std::nullopt);
    }
    restart_reason_ = reason;
    session_->restart(relaunched, mode);
  });
}

void ProfileWorker::soft_restart(SoftRestart::Due due) {
  nlohmann::json params = std::move(due.params);
  params["reason"] = reason_text(due.reason);
  params["items"] = soft_.items_since_launch();
  params["age_ms"] = soft_.age_ms(uv_now(run_.loop));
  event("soft_restart", params);
  set_state(State::restarting);
  health_.stop();
  restart_reason_ = RestartReason::soft;
  std::weak_ptr<bool> alive = alive_;
  session_->restart([this, alive](std::optional<Error> error) {
    if (alive.expired()) return;
    state_ = State::starting;
    on_launched(std::move(error));
  });
}

std::optional<SoftRestart::Due> ProfileWorker::soft_restart_due() {
  SoftRestart::MemoryReader memory;
  if (session_->pid() > 0) {
    memory = [pid = session_->pid()]() { return chrome::group_memory_kb(pid) / 1024; };
  }
  return soft_.due(uv_now(run_.loop), memory);
}

void ProfileWorker::go_fatal(const std::string& reason) {
  if (state_ == State::fatal) return;
  const std::string shot = "fatal-" + profile_.name + ".png";
  auto finish = [this, reason, shot](bool shot_taken) {
    timer_.cancel();
    health_.stop();
    record_.fatal = true;
    save_profile();
    event("fatal", {{"scope", "profile"},
                    {"reason", reason},
                    {"restarts", record_.restarts},
                    {"screenshot", shot_taken ? nlohmann::json(shot) : nullptr}});
    set_state(State::fatal, reason);
    // Not while an item is in flight: it ends on its own and the runner
    // gives it to another profile.
    if (current_item_.empty()) session_->close(nullptr);
    fire_ready_waiters(unavailable("fatal: " + reason, "browser"));
    changed_();
  };
  state_ = State::fatal;
  screenshot_then(shot, finish);
}

}  // namespace belay::campaign
