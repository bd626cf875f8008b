#include "campaign/health_monitor.hpp"

#include <algorithm>
#include <vector>

namespace belay::campaign {

// One beat's probes; the results are judged when the last has answered.
struct HealthMonitor::Round {
  // Weak: the probes' callbacks live in the session's own connection.
  std::weak_ptr<browser::BrowserSession> session;
  uint64_t generation = 0;
  uint64_t started = 0;
  size_t outstanding = 0;
  std::optional<Error> browser_error;
  uint64_t browser_ms = 0;
  std::vector<std::pair<std::shared_ptr<browser::Page>, Error>> page_errors;
};

bool is_missed_beat(const Error& error) {
  return error.kind == Kind::timeout || error.kind == Kind::target_crashed;
}

HealthMonitor::HealthMonitor(uv_loop_t* loop, HealthConfig config, Handlers handlers)
    : loop_(loop), config_(config), handlers_(std::move(handlers)), timer_(loop) {}

HealthMonitor::~HealthMonitor() { alive_.reset(); }

void HealthMonitor::watch(std::shared_ptr<browser::BrowserSession> session) {
  session_ = session;
  schedule();
}

void HealthMonitor::stop() {
  timer_.cancel();
  session_.reset();
}

void HealthMonitor::schedule() {
  if (config_.interval_ms == 0) return;  // health checks off
  timer_.after(config_.interval_ms, [this]() { beat(); });
}

void HealthMonitor::beat() {
  auto session = session_.lock();
  if (!session) return;
  // A browser being restarted has nothing to probe; one still coming up is
  // checked on the next beat.
  if (probing_ || session->restarting() || !session->connected()) return schedule();
  probing_ = true;
  auto round = std::make_shared<Round>();
  round->session = session;
  round->generation = session->generation();
  round->started = uv_now(loop_);
  round->outstanding = 1 + session->pages().size();
  std::weak_ptr<bool> alive = alive_;
  probe_browser(*session, [this, alive, round](Result<cdp::json> reply) {
    if (alive.expired()) return;
    if (!reply) round->browser_error = reply.error();
    round->browser_ms = uv_now(loop_) - round->started;
    finish(round);
  });
  for (const auto& page : std::vector<std::shared_ptr<browser::Page>>(session->pages())) {
    page->evaluate("1", config_.timeout_ms, "health",
                   [this, alive, round, page](Result<cdp::json> reply) {
                     if (alive.expired()) return;
                     if (!reply) round->page_errors.emplace_back(page, reply.error());
                     finish(round);
                   });
  }
}

void HealthMonitor::probe_browser(browser::BrowserSession& session,
                                  std::function<void(Result<cdp::json>)> done) {
  session.browser()->send(
      cdp::Command{"Browser.getVersion", cdp::json::object(), "", config_.timeout_ms, "health"},
      std::move(done));
}

// The round's session, or null when the browser was restarted while the
// probes ran (they were about the old one).
std::shared_ptr<browser::BrowserSession> HealthMonitor::current(const Round& round) const {
  auto session = session_.lock();
  if (!session || session != round.session.lock() || session->generation() != round.generation) {
    return nullptr;
  }
  return session;
}

void HealthMonitor::finish(const std::shared_ptr<Round>& round) {
  if (--round->outstanding != 0) return;
  auto session = current(*round);
  if (!session) return end_round();
  if (round->browser_error) {
    end_round();
    // A browser that disconnected is the disconnect handler's news.
    if (is_missed_beat(*round->browser_error) && handlers_.browser_missed) {
      handlers_.browser_missed(*round->browser_error);
    }
    return;
  }
  if (handlers_.beat) handlers_.beat(round->browser_ms);
  auto& misses = round->page_errors;
  misses.erase(std::remove_if(misses.begin(), misses.end(),
                              [](const auto& miss) {
                                const auto& [page, error] = miss;
                                // A page whose session ended (a crashed renderer, a closed tab) is
                                // the session's page_gone news, and is replaced from there: told
                                // once. A crash fails the beat just before the session ends (the
                                // connection fails the session's commands first), so gone() is not
                                // yet set then.
                                return page->gone() || error.kind == Kind::target_crashed ||
                                       !is_missed_beat(error);
                              }),
               misses.end());
  if (round->page_errors.empty()) return end_round();
  // A page's probe goes through the browser process: one that stopped
  // after answering its own probe leaves every page unanswered too. Only
  // a browser that still answers makes the silence the page's.
  std::weak_ptr<bool> alive = alive_;
  probe_browser(*session, [this, alive, round](Result<cdp::json> reply) {
    if (alive.expired()) return;
    end_round();
    if (!current(*round)) return;
    if (!reply) {
      if (is_missed_beat(reply.error()) && handlers_.browser_missed) {
        handlers_.browser_missed(reply.error());
      }
      return;
    }
    for (const auto& [page, why] : round->page_errors) {
      if (!page->gone() && handlers_.page_missed) handlers_.page_missed(page, why);
    }
  });
}

void HealthMonitor::end_round() {
  probing_ = false;
  schedule();
}

}  // namespace belay::campaign
