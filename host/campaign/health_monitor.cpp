#include "campaign/health_monitor.hpp"

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
  session->browser()->send(
      cdp::Command{"Browser.getVersion", cdp::json::object(), "", config_.timeout_ms, "health"},
      [this, alive, round](Result<cdp::json> reply) {
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

void HealthMonitor::finish(const std::shared_ptr<Round>& round) {
  if (--round->outstanding != 0) return;
  probing_ = false;
  auto session = session_.lock();
  // The browser was restarted while the probes ran: they were about the
  // old one.
  if (!session || session != round->session.lock() || session->generation() != round->generation) {
    return schedule();
  }
  schedule();
  if (round->browser_error) {
    // A browser that disconnected is the disconnect handler's news.
    if (is_missed_beat(*round->browser_error) && handlers_.browser_missed) {
      handlers_.browser_missed(*round->browser_error);
    }
    return;
  }
  if (handlers_.beat) handlers_.beat(round->browser_ms);
  for (const auto& [page, error] : round->page_errors) {
    // A page whose session ended (a crashed renderer, a closed tab) is the
    // session's page_gone news, and is replaced from there: told once. A
    // crash fails the beat just before the session ends (the connection
    // fails the session's commands first), so gone() is not yet set then.
    if (page->gone() || error.kind == Kind::target_crashed) continue;
    if (is_missed_beat(error) && handlers_.page_missed) handlers_.page_missed(page, error);
  }
}

}  // namespace belay::campaign
