#include "campaign/profile_worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

namespace belay::campaign {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view state_name(ProfileWorker::State state) {
  switch (state) {
    case ProfileWorker::State::starting:
      return "starting";
    case ProfileWorker::State::idle:
      return "ready";
    case ProfileWorker::State::busy:
      return "busy";
    case ProfileWorker::State::restarting:
      return "restarting";
    case ProfileWorker::State::paused:
      return "paused";
    case ProfileWorker::State::fatal:
      return "fatal";
    case ProfileWorker::State::stopped:
      return "stopped";
  }
  return "?";
}

ProfileWorker::ProfileWorker(RunContext& run, ProfileConfig profile, std::function<void()> changed)
    : run_(run),
      profile_(std::move(profile)),
      changed_(std::move(changed)),
      health_(run.loop, run.config.health, {}),
      timer_(run.loop),
      script_restart_delay_(run.loop),
      wear_(run.config.health.interval_ms) {
  browser::BrowserSpec spec = browser::profile_browser_spec(
      {profile_.name, profile_.connect, profile_.user_data_dir, profile_.flags}, run_.options);
  spec.dialogs = run_.config.dialogs;
  session_ = std::make_shared<browser::BrowserSession>(run_.loop, std::move(spec));
  std::weak_ptr<bool> alive = alive_;
  browser::SessionHooks hooks;
  hooks.before_restart = [this, alive](std::function<void()> proceed,
                                       std::function<void(Error)> refuse) {
    if (!alive.expired()) before_restart(std::move(proceed), std::move(refuse));
  };
  hooks.launched = [this, alive](pid_t pid, const std::optional<Error>& error, uint64_t dur) {
    // A launch cut short by stop() is no news.
    if (alive.expired() || stopping_) return;
    event("browser_launch",
          {{"pid", pid}, {"error", error ? nlohmann::json(error->to_string()) : nullptr}},
          error ? "fail" : "ok", dur);
  };
  hooks.page_gone = [this, alive](const std::shared_ptr<browser::Page>& page, const Error& why) {
    if (!alive.expired()) replace_page(page, why);
  };
  hooks.dialog_answered = [this, alive](const std::shared_ptr<browser::Page>&,
                                        const browser::DialogInfo& dialog, bool accepted,
                                        const std::string& by) {
    if (alive.expired()) return;
    // A page may alert megabytes; the log keeps what a reader needs.
    constexpr size_t kMessageKept = 1000;
    std::string message = dialog.message.size() <= kMessageKept
                              ? dialog.message
                              : dialog.message.substr(0, kMessageKept) + "…";
    event("dialog", {{"type", dialog.type},
                     {"message", std::move(message)},
                     {"url", dialog.url},
                     {"answer", accepted ? "accept" : "dismiss"},
                     {"by", by}});
  };
  hooks.dropped_message = [this, alive](const Error& why) {
    if (!alive.expired()) report_dropped_message(why);
  };
  session_->set_hooks(std::move(hooks));
  session_->on_disconnect([this, alive](const Error& why) {
    if (!alive.expired()) on_browser_exit(why);
  });
  HealthMonitor::Handlers beats;
  beats.beat = [this, alive](uint64_t) {
    // The health row's last_heartbeat is written with the state.
    if (!alive.expired() && !stopping_) set_state(state_);
  };
  beats.browser_missed = [this, alive](const Error& why) {
    if (!alive.expired()) on_heartbeat_missed(why);
  };
  beats.page_missed = [this, alive](const std::shared_ptr<browser::Page>& page, const Error& why) {
    if (!alive.expired()) on_page_missed(page, why);
  };
  health_.set_handlers(std::move(beats));
}

ProfileWorker::~ProfileWorker() { alive_.reset(); }

std::string ProfileWorker::session_id() const {
  return profile_.name + "#" + std::to_string(session_->generation());
}

Error ProfileWorker::unavailable(const std::string& what, const std::string& where) const {
  return Error{Kind::browser_disconnected, "profile '" + profile_.name + "' is " + what, where, {}};
}

void ProfileWorker::event(const std::string& name, nlohmann::json params,
                          const std::string& outcome, std::optional<uint64_t> dur_ms) {
  run_.events.write(
      Event{name, profile_.name, session_id(), current_item_, std::move(params), outcome, dur_ms});
}

// Every garbage message is counted in the status; the first, the tenth, the
// hundredth... are told on stderr, so a peer that sends nothing else
// cannot flood it.
void ProfileWorker::report_dropped_message(const Error& why) {
  ++dropped_messages_;
  uint64_t told = 1;
  while (told < dropped_messages_ && told <= UINT64_MAX / 10) told *= 10;
  if (told != dropped_messages_) return;
  std::fprintf(stderr,
               "belay: profile '%s': dropped a message from the browser (%llu so far): %s\n",
               profile_.name.c_str(), static_cast<unsigned long long>(dropped_messages_),
               why.message.c_str());
}

void ProfileWorker::set_state(State state, const std::string& error) {
  state_ = state;
  if (!error.empty()) last_error_ = error;
  store::WorkerHealth health;
  health.profile = profile_.name;
  health.status = std::string(state_name(state));
  health.last_heartbeat_ms = wall_ms();
  health.restart_count = record_.restarts;
  health.current_item = current_item_;
  health.last_error = last_error_;
  if (auto e = run_.store.save_health(health)) run_.store_failed(*e);
}

void ProfileWorker::save_profile() {
  if (auto e = run_.store.save_profile(record_)) run_.store_failed(*e);
}

void ProfileWorker::start() {
  auto record = run_.store.profile(profile_.name);
  if (!record) {
    run_.store_failed(record.error());
    return;
  }
  record_ = record.value();
  record_.name = profile_.name;
  // A fatal profile gets a new chance in a new run; a pause is honoured.
  record_.fatal = false;
  const int64_t now = wall_ms();
  if (record_.paused_until_ms > now) {
    state_ = State::paused;
    pause_event(record_.paused_until_ms - now, reason_text(PauseReason::persisted), true);
    set_state(State::paused);
    browser_closed_for_pause_ = true;
    timer_.after(static_cast<uint64_t>(record_.paused_until_ms - now),
                 [this]() { pause_expired(); });
    changed_();
    return;
  }
  launch();
}

void ProfileWorker::launch() {
  set_state(State::starting);
  std::weak_ptr<bool> alive = alive_;
  session_->start([this, alive](std::optional<Error> error) {
    if (!alive.expired()) on_launched(std::move(error));
  });
}

void ProfileWorker::on_launched(std::optional<Error> error) {
  if (stopping_) return;
  if (!error) {
    launched_once_ = true;
    restarts_.launch_succeeded();
    wear_.launched(uv_now(run_.loop));
    health_.watch(session_);
    fire_ready_waiters(std::nullopt);
    // The supervisor relaunched the browser under an item: it goes on.
    if (!current_item_.empty()) return set_state(State::busy);
    if (requested_pause_) return apply_requested_pause();
    set_state(State::idle);
    changed_();
    return;
  }
  last_error_ = error->to_string();
  // A browser that never came up in this run (a wrong --chrome, a broken
  // profile dir) will not come up by waiting: fail the profile now.
  if (!launched_once_) return go_fatal("launch failed: " + error->to_string());
  restarts_.launch_failed();
  supervise(RestartReason::launch_failed);
}

void ProfileWorker::when_ready(std::function<void(std::optional<Error>)> done) {
  if (stopping_ || state_ == State::fatal) {
    return done(unavailable(stopping_ ? "stopping" : "fatal: " + last_error_, "browser"));
  }
  if (state_ == State::restarting || state_ == State::starting || pages_being_replaced_ > 0) {
    ready_waiters_.push_back(std::move(done));
    return;
  }
  if (!session_->connected()) {
    ready_waiters_.push_back(std::move(done));
    return supervise(RestartReason::disconnected);
  }
  done(std::nullopt);
}

void ProfileWorker::fire_ready_waiters(const std::optional<Error>& error) {
  auto waiters = std::move(ready_waiters_);
  ready_waiters_.clear();
  for (auto& waiter : waiters) waiter(error);
}

void ProfileWorker::begin_item(const std::string& key) {
  current_item_ = key;
  session_->set_download_folder(browser::download_folder_name(key));
  set_state(State::busy);
}

void ProfileWorker::end_item(const std::optional<Error>& error) {
  // Popups the item opened go with it, unless its script kept them.
  session_->close_popups();
  if (!error) {
    if (record_.error_streak != 0) {
      record_.error_streak = 0;
      save_profile();
    }
  } else if (error->kind != Kind::cancelled) {
    ++record_.error_streak;
    save_profile();
  }
  if (error) last_error_ = error->to_string();
  wear_.item_ended();
  const std::string item = std::exchange(current_item_, "");
  if (stopping_) return;
  if (state_ == State::fatal) {
    session_->close(nullptr);
    return changed_();
  }
  if (auto pause_decision = decide_after_item(item, error)) {
    requested_pause_ = PauseRequest{pause_decision->ms, pause_decision->reason,
                                    pause_decision->close_browser, std::nullopt};
  }
  if (state_ == State::restarting || state_ == State::starting) {
    // The supervisor is relaunching the browser: what follows is decided
    // once it is up (on_launched).
    return set_state(state_);
  }
  if (requested_pause_) return apply_requested_pause();
  if (!session_->connected()) return supervise(RestartReason::disconnected);
  if (auto soft = decide_between_items()) return soft_restart(std::move(*soft));
  set_state(State::idle);
  changed_();
}

void ProfileWorker::apply_requested_pause() {
  const PauseRequest request = *requested_pause_;
  uint64_t ms = request.ms;
  if (request.announced_until) {
    ms = static_cast<uint64_t>(std::max<int64_t>(0, *request.announced_until - wall_ms()));
  }
  pause(ms, request.reason, request.close_browser, request.announced_until);
}

// A pause the host decides closes its browser (a pause is long: 24 h by
// default) and launches it again when the pause ends; the operator's keeps
// it open unless asked, so that a short look at a profile costs no relaunch.
void ProfileWorker::pause(uint64_t ms, const std::string& reason, bool close_browser,
                          std::optional<int64_t> announced_until) {
  requested_pause_.reset();
  record_.paused_until_ms = announced_until.value_or(wall_ms() + static_cast<int64_t>(ms));
  save_profile();
  if (!announced_until) pause_event(ms, reason, close_browser);
  set_state(State::paused);
  if (close_browser && !closing_for_pause_) {
    health_.stop();
    closing_for_pause_ = true;
    browser_closed_for_pause_ = true;
    std::weak_ptr<bool> alive = alive_;
    session_->close([this, alive]() {
      if (alive.expired()) return;
      closing_for_pause_ = false;
      // Resumed while the browser was still closing: launch now, not on
      // top of the browser that is going.
      if (launch_when_closed_) {
        launch_when_closed_ = false;
        if (!stopping_) launch();
      }
    });
  }
  std::weak_ptr<bool> alive = alive_;
  timer_.after(ms, [this, alive]() {
    if (!alive.expired()) pause_expired();
  });
  changed_();
}

void ProfileWorker::pause_expired() {
  if (stopping_) return;
  if (auto again = decide_pause_ended()) {
    return pause(again->ms, again->reason, again->close_browser && !browser_closed_for_pause_);
  }
  unpause("expired");
}

// The event says why, until when and how to end it early: a paused
// profile must never look like a run that hangs.
void ProfileWorker::pause_event(nlohmann::json ms, const std::string& reason, bool close_browser) {
  event("pause", {{"until_ms", record_.paused_until_ms},
                  {"ms", std::move(ms)},
                  {"reason", reason},
                  {"error_streak", record_.error_streak},
                  {"close_browser", close_browser},
                  {"hint", "belay resume " + profile_.name + " ends it (or resume('" +
                               profile_.name + "') in belay attach)"}});
}

void ProfileWorker::unpause(const char* reason) {
  if (stopping_) return;
  record_.paused_until_ms = 0;
  record_.error_streak = 0;
  save_profile();
  event("unpause", {{"reason", reason}});
  const bool closed = browser_closed_for_pause_;
  browser_closed_for_pause_ = false;
  if (!closed && session_->connected() && !session_->restarting()) {
    // Kept open through the pause.
    set_state(State::idle);
    changed_();
    return;
  }
  if (closing_for_pause_) {
    set_state(State::starting);
    launch_when_closed_ = true;
    return;
  }
  launch();
}

std::optional<Error> ProfileWorker::hold(uint64_t ms, bool close_browser) {
  if (stopping_ || state_ == State::fatal || state_ == State::stopped) {
    return Error{Kind::config,
                 "profile '" + profile_.name + "' is " + std::string(state_name(state_)) +
                     ": nothing to pause",
                 "pause",
                 {}};
  }
  const std::string reason = reason_text(PauseReason::by_operator);
  if (state_ == State::idle) {
    pause(ms, reason, close_browser);
  } else if (state_ == State::paused) {
    timer_.cancel();
    pause(ms, reason, close_browser);
  } else {
    // busy, starting or restarting: applied when the worker would be
    // ready, but announced now and counted from now.
    const int64_t until = wall_ms() + static_cast<int64_t>(ms);
    requested_pause_ = PauseRequest{ms, reason, close_browser, until};
    const int64_t stored_until = record_.paused_until_ms;
    record_.paused_until_ms = until;
    pause_event(ms, reason, close_browser);
    record_.paused_until_ms = stored_until;
  }
  return std::nullopt;
}

std::optional<Error> ProfileWorker::resume() {
  if (state_ == State::paused) {
    timer_.cancel();
    unpause("operator");
    return std::nullopt;
  }
  if (requested_pause_) {
    requested_pause_.reset();
    event("unpause", {{"reason", "operator"}});
    return std::nullopt;
  }
  return Error{
      Kind::config,
      "profile '" + profile_.name + "' is " + std::string(state_name(state_)) + ", not paused",
      "resume",
      {}};
}

void ProfileWorker::stop(std::function<void()> done) {
  stopping_ = true;
  timer_.cancel();
  script_restart_delay_.cancel();
  health_.stop();
  fire_ready_waiters(Error{Kind::cancelled, "the run is stopping", "browser", {}});
  std::weak_ptr<bool> alive = alive_;
  session_->close([this, alive, done = std::move(done)]() {
    if (!alive.expired() && state_ != State::fatal) set_state(State::stopped);
    if (done) done();
  });
}

}  // namespace belay::campaign
