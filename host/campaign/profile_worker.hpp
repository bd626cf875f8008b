#pragma once
// One profile of a running campaign: its browser and what happens to it.
// It launches the browser and supervises it: a browser that exits,
// disconnects or misses a heartbeat has its process group killed and is
// relaunched, also in the middle of an item, whose next try waits for it;
// a page whose renderer crashed or hung is replaced. It keeps the error
// streak, the restarts and the browser's wear, and may restart the browser
// preventively between items (soft restart) or pause the profile. The
// profile's streak, pause and restarts are durable, so a pause outlives the
// host.
//
// Whether and when to restart, pause, soft-restart or end a pause is the
// policy's (SupervisorPolicy: scripts/belay/supervisor.lua or the
// campaign's functions); the worker gives it the facts and carries out
// what it decides: launches, kills, events, screenshots and store writes.
// Its supervisor half (deaths, hangs, restarts, decisions, fatal) is
// defined in profile_supervision.cpp, the rest in profile_worker.cpp.
//
// Which item runs where is the runner's business: the worker only says when
// it is ready for one.

#include "browser/browser_session.hpp"
#include "campaign/browser_wear.hpp"
#include "campaign/config.hpp"
#include "campaign/event_log.hpp"
#include "campaign/health_monitor.hpp"
#include "campaign/restart_history.hpp"
#include "campaign/runner.hpp"
#include "campaign/supervisor_policy.hpp"
#include "campaign/worker_reasons.hpp"
#include "core/timer.hpp"
#include "store/store.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace belay::campaign {

// Milliseconds since the epoch: what `until_ms` in events and the store's
// paused_until mean.
int64_t wall_ms();

// What every worker of one run shares.
struct RunContext {
  uv_loop_t* loop;
  const CampaignConfig& config;
  EventLog& events;
  store::Store& store;
  RunOptions options;
  // Makes the supervisor's decisions.
  SupervisorPolicy& policy;
  // A write to the store failed: the run cannot promise durability.
  std::function<void(const Error&)> store_failed;
};

class ProfileWorker {
 public:
  enum class State { starting, idle, busy, restarting, paused, fatal, stopped };

  // `changed` is called whenever the worker may have become ready, paused
  // or fatal, so the runner can hand out items or finish.
  ProfileWorker(RunContext& run, ProfileConfig profile, std::function<void()> changed);
  ~ProfileWorker();
  ProfileWorker(const ProfileWorker&) = delete;
  ProfileWorker& operator=(const ProfileWorker&) = delete;

  // Honours a pause stored by an earlier run, else launches the browser.
  void start();
  const std::string& name() const { return profile_.name; }
  State state() const { return state_; }
  // When its pause ends (wall ms); 0 when it is not paused.
  int64_t paused_until_ms() const { return record_.paused_until_ms; }
  bool ready() const { return state_ == State::idle; }
  const std::shared_ptr<browser::BrowserSession>& session() const { return session_; }
  std::string session_id() const;
  // Messages from this profile's browsers dropped as garbage, in this run.
  uint64_t dropped_messages() const { return dropped_messages_; }

  void begin_item(const std::string& key);
  // Calls `done` once the browser is up: at once, or after the supervisor's
  // relaunch; with an error when the profile went fatal or is stopping. An
  // item whose browser died waits here before its next try or step.
  void when_ready(std::function<void(std::optional<Error>)> done);
  // The item ended: the streak moves, then a pause, a restart of a dead
  // browser or a soft restart may follow before the worker is ready again.
  void end_item(const std::optional<Error>& error);
  // ctx:pause_profile(ms): applied when the item in flight ends.
  void request_pause(uint64_t ms) {
    requested_pause_ = PauseRequest{ms, reason_text(PauseReason::script), true, std::nullopt};
  }
  // The operator's pause and resume (belay attach, belay pause/resume). The
  // pause is announced at once (event `pause`, reason `operator`) and runs
  // from now; a busy profile finishes its item first, a launching one
  // comes up first. The browser stays open unless `close_browser`.
  std::optional<Error> hold(uint64_t ms, bool close_browser);
  // Ends a pause, or one asked for that has not begun (event `unpause`,
  // reason `operator`).
  std::optional<Error> resume();
  // Closes the browser; no restart or unpause happens after this.
  void stop(std::function<void()> done);

 private:
  void set_state(State state, const std::string& error = "");
  void launch();
  void on_launched(std::optional<Error> error);
  void on_browser_exit(const Error& why);
  void supervise(RestartReason reason, browser::RestartMode mode = browser::RestartMode::kill);
  void on_heartbeat_missed(const Error& why);
  void on_page_missed(const std::shared_ptr<browser::Page>& page, const Error& why);
  // Replaces a crashed, hung or closed current page in the live browser.
  void replace_page(const std::shared_ptr<browser::Page>& page, const Error& why);
  void fire_ready_waiters(const std::optional<Error>& error);
  // The policy's decisions, from the facts the worker keeps. A policy that
  // fails is a `handler_failed` event and the bundled one decides instead.
  DeathDecision decide_after_death(RestartReason reason);
  std::optional<PauseDecision> decide_after_item(const std::string& item,
                                                 const std::optional<Error>& error);
  std::optional<SoftRestartDecision> decide_between_items();
  std::optional<PauseDecision> decide_pause_ended();
  // Asks the campaign's policy, then the bundled one, for the decision at
  // `point`, read by `read` (Result<Decision>(const PolicyAnswer&)); each
  // failure is a `handler_failed` event. None when neither answered.
  template <typename Decision, typename Read>
  std::optional<Decision> ask_policy(DecisionPoint point, const nlohmann::json& facts, Read read);
  void policy_failed(DecisionPoint point, const Error& why, bool bundled);
  void soft_restart(SoftRestartDecision decision);
  void before_restart(std::function<void()> proceed, std::function<void(Error)> refuse);
  // The restart goes ahead (counted, screenshot, `restarting` event).
  void restart_now(RestartReason reason, std::function<void()> proceed);
  // A wait over a second is announced with a `waiting` event.
  void announce_wait(const std::string& what, const std::string& why, uint64_t ms);
  // Screenshots the current page into STATE/screenshots/NAME (when there is
  // a live one), then calls `then` with whether it was taken.
  void screenshot_then(const std::string& name, std::function<void(bool)> then);
  void go_fatal(const std::string& reason);
  // `announced_until`: the operator's pause, announced when it was asked
  // for, ends then (wall ms).
  // `reason`: a PauseReason's name, or the policy's word.
  void pause(uint64_t ms, const std::string& reason, bool close_browser = true,
             std::optional<int64_t> announced_until = std::nullopt);
  void pause_event(nlohmann::json ms, const std::string& reason, bool close_browser);
  // Its time is up: the policy resumes the profile or pauses it again.
  void pause_expired();
  // `reason`: "expired" (its time is up) or "operator".
  void unpause(const char* reason);
  void apply_requested_pause();
  void save_profile();
  void report_dropped_message(const Error& why);
  // The error of a call made while the profile is `what` (stopping, fatal).
  Error unavailable(const std::string& what, const std::string& where) const;
  void event(const std::string& name, nlohmann::json params, const std::string& outcome = "",
             std::optional<uint64_t> dur_ms = std::nullopt);

  RunContext& run_;
  ProfileConfig profile_;
  std::function<void()> changed_;
  std::shared_ptr<browser::BrowserSession> session_;
  HealthMonitor health_;
  std::vector<std::function<void(std::optional<Error>)>> ready_waiters_;
  // A crashed or hung page is being replaced: the item's next try waits for
  // the new one rather than reviving the dead tab.
  int pages_being_replaced_ = 0;
  store::ProfileRecord record_;
  State state_ = State::starting;
  std::string current_item_;
  std::string last_error_;
  uint64_t dropped_messages_ = 0;
  Timer timer_;                 // supervisor delay or pause
  Timer script_restart_delay_;  // the policy's delay before a script's restart
  RestartHistory restarts_;
  BrowserWear wear_;
  // For the restart under way; none: the script asked for it.
  std::optional<RestartReason> restart_reason_;
  // The policy already allowed the restart under way (the supervisor asked
  // before its delay); a script's restart is asked about when it begins.
  bool restart_decided_ = false;
  bool launched_once_ = false;
  // A pause to apply once the item in flight ends or the browser is up.
  struct PauseRequest {
    uint64_t ms;
    std::string reason;
    bool close_browser;
    std::optional<int64_t> announced_until;  // see pause()
  };
  std::optional<PauseRequest> requested_pause_;
  // This pause closed the browser (unpause launches one); the close is
  // still under way (unpause waits for it: launch_when_closed_).
  bool browser_closed_for_pause_ = false;
  bool closing_for_pause_ = false;
  bool launch_when_closed_ = false;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

std::string_view state_name(ProfileWorker::State state);

}  // namespace belay::campaign
