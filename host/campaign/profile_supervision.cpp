// ProfileWorker's supervisor half: what happens when its browser exits,
// hangs or crashes a page, how a restart is carried out (the policy's
// verdict, the screenshot, the `restarting` event), the facts the policy is
// given at each decision, and the fatal state. The rest of the worker is in
// profile_worker.cpp.

#include "browser/page_actions.hpp"
#include "campaign/profile_worker.hpp"
#include "chrome/process_memory.hpp"

#include <utility>

namespace belay::campaign {
namespace {

constexpr uint64_t kScreenshotTimeoutMs = 5000;
// Longer than this, a wait is announced with a `waiting` event (as
// scripts/belay/attempt.lua does for the ladder's): a run is never silent.
constexpr uint64_t kAnnounceWaitsOverMs = 1000;

}  // namespace

// Every restart but a soft one is the policy's to allow; it counts, and
// leaves a screenshot of the page as it was and a `restarting` event. The
// supervisor's own restarts were allowed before their delay (supervise); a
// script's is asked about here.
void ProfileWorker::before_restart(std::function<void()> proceed,
                                   std::function<void(Error)> refuse) {
  const RestartReason reason = restart_reason_.value_or(RestartReason::script);
  restart_reason_.reset();
  if (reason == RestartReason::soft) return proceed();
  if (std::exchange(restart_decided_, false)) return restart_now(reason, std::move(proceed));
  const DeathDecision decision = decide_after_death(reason);
  if (decision.fatal) {
    go_fatal(decision.reason);
    return refuse(unavailable("fatal: " + decision.reason, "restart"));
  }
  if (decision.delay_ms == 0) return restart_now(reason, std::move(proceed));
  announce_wait("restart", "the policy's delay before the script's restart of the browser",
                decision.delay_ms);
  std::weak_ptr<bool> alive = alive_;
  script_restart_delay_.after(decision.delay_ms, [this, alive, reason, proceed]() {
    if (!alive.expired() && !stopping_) restart_now(reason, proceed);
  });
}

void ProfileWorker::restart_now(RestartReason reason, std::function<void()> proceed) {
  restarts_.record(uv_now(run_.loop));
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

void ProfileWorker::announce_wait(const std::string& what, const std::string& why, uint64_t ms) {
  if (ms <= kAnnounceWaitsOverMs) return;
  event("waiting", {{"what", what},
                    {"why", why},
                    {"ms", ms},
                    {"until_ms", wall_ms() + static_cast<int64_t>(ms)}});
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

// The browser died, hung or failed to relaunch: the policy decides between
// a relaunch after its delay (the group is killed first) and the fatal
// state.
void ProfileWorker::supervise(RestartReason reason, browser::RestartMode mode) {
  if (stopping_ || state_ == State::fatal || state_ == State::restarting) return;
  set_state(State::restarting, reason_text(reason));
  health_.stop();
  const DeathDecision decision = decide_after_death(reason);
  if (decision.fatal) {
    go_fatal(decision.reason);
    return;
  }
  const uint64_t delay = decision.delay_ms;
  announce_wait("restart",
                "delay before relaunching a browser that " +
                    std::string(reason == RestartReason::hung ? "hung" : "died") + " (" +
                    reason_text(reason) + ")" +
                    (decision.reason.empty() ? "" : ": " + decision.reason),
                delay);
  const uint64_t generation = session_->generation();
  std::weak_ptr<bool> alive = alive_;
  auto relaunched = [this, alive](std::optional<Error> error) {
    if (alive.expired() || stopping_) return;
    if (state_ == State::fatal) return fire_ready_waiters(error);
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
    // A restart already under way (the script's) asks no hook again, so the
    // flag would outlive it and let a later script restart skip the policy.
    restart_decided_ = !session_->restarting();
    session_->restart(relaunched, mode);
  });
}

void ProfileWorker::soft_restart(SoftRestartDecision decision) {
  nlohmann::json params = std::move(decision.detail);
  const uint64_t now = uv_now(run_.loop);
  params["reason"] = decision.reason;
  params["items"] = wear_.items_since_launch();
  params["age_ms"] = wear_.age_ms(now);
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

template <typename Decision, typename Read>
std::optional<Decision> ProfileWorker::ask_policy(DecisionPoint point, const nlohmann::json& facts,
                                                  Read read) {
  for (bool bundled : {false, true}) {
    auto answer = run_.policy.decide(point, facts, bundled);
    Result<Decision> decision = answer ? read(answer.value()) : Result<Decision>(answer.error());
    if (decision) return std::move(decision.value());
    policy_failed(point, decision.error(), bundled);
  }
  return std::nullopt;
}

DeathDecision ProfileWorker::decide_after_death(RestartReason reason) {
  nlohmann::json facts = {{"profile", profile_.name},
                          {"reason", reason_text(reason)},
                          {"restarts", record_.restarts},
                          {"recent_restarts", restarts_.ms_ago(uv_now(run_.loop))},
                          {"launch_failures", restarts_.launch_failures()}};
  if (!current_item_.empty()) facts["item"] = current_item_;
  auto decision = ask_policy<DeathDecision>(DecisionPoint::after_death, facts, read_death_decision);
  // Neither answered: relaunch after the configured delay, as a browser
  // that died must not leave its profile idle for ever.
  return decision.value_or(
      DeathDecision{false, run_.config.supervisor.delay_ms, "no policy answered"});
}

std::optional<PauseDecision> ProfileWorker::decide_after_item(const std::string& item,
                                                              const std::optional<Error>& error) {
  nlohmann::json facts = {{"profile", profile_.name},
                          {"item", item},
                          {"ok", !error},
                          {"error_streak", record_.error_streak},
                          {"items", wear_.items_since_launch()}};
  if (error) facts["error"] = {{"kind", kind_name(error->kind)}, {"message", error->message}};
  return ask_policy<std::optional<PauseDecision>>(
             DecisionPoint::after_item, facts,
             [](const PolicyAnswer& a) { return read_pause_decision(a, "policy"); })
      .value_or(std::nullopt);
}

std::optional<SoftRestartDecision> ProfileWorker::decide_between_items() {
  BrowserWear::MemoryReader memory;
  if (session_->pid() > 0) {
    memory = [pid = session_->pid()]() { return chrome::group_memory_kb(pid) / 1024; };
  }
  const uint64_t now = uv_now(run_.loop);
  nlohmann::json facts = {{"profile", profile_.name},
                          {"items", wear_.items_since_launch()},
                          {"age_ms", wear_.age_ms(now)}};
  if (auto mb = wear_.memory_mb(now, memory)) facts["memory_mb"] = *mb;
  auto decision = ask_policy<std::optional<SoftRestartDecision>>(DecisionPoint::between_items,
                                                                 facts, read_soft_restart_decision)
                      .value_or(std::nullopt);
  if (decision && facts.contains("memory_mb")) decision->detail["memory_mb"] = facts["memory_mb"];
  return decision;
}

std::optional<PauseDecision> ProfileWorker::decide_pause_ended() {
  const nlohmann::json facts = {{"profile", profile_.name}, {"error_streak", record_.error_streak}};
  return ask_policy<std::optional<PauseDecision>>(
             DecisionPoint::pause_ended, facts,
             [](const PolicyAnswer& a) { return read_pause_decision(a, "policy"); })
      .value_or(std::nullopt);
}

// The run goes on: a policy that fails must not stop a campaign, and it
// must not go unnoticed either.
void ProfileWorker::policy_failed(DecisionPoint point, const Error& why, bool bundled) {
  event("handler_failed",
        {{"handler", "supervisor." + std::string(campaign::name(point))},
         {"kind", kind_name(why.kind)},
         {"message", why.message},
         {"then", bundled ? "the host's fallback decides" : "the bundled policy decides"}},
        "fail");
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
