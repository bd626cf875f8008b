// The durable runner: every profile of the campaign in parallel on the one
// loop, items handed out from one shared queue to whichever profile is
// free, and every item's fate written to the store before it is reported.
// A slow, recovering or paused profile holds only its own item.

#include "campaign/in_flight.hpp"
#include "campaign/item_key.hpp"
#include "campaign/profile_worker.hpp"
#include "campaign/runner.hpp"
#include "core/timer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <unordered_map>

namespace belay::campaign {
namespace {

uint64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

nlohmann::json error_json(const Error& e) {
  return {{"kind", kind_name(e.kind)}, {"message", e.message}, {"op", e.op}};
}

class DurableRunner final : public Runner {
 public:
  DurableRunner(uv_loop_t* loop, const CampaignConfig& config, ItemExecutor& executor,
                SupervisorPolicy& policy, EventLog& events, store::Store& store, RunOptions options)
      : config_(config),
        executor_(executor),
        context_{loop, config, events, store, std::move(options), policy, store_failed_handler()},
        stall_timer_(loop) {}

  std::optional<Error> start(Finished finished) override;
  void stop() override;
  nlohmann::json status() const override;
  std::optional<Error> pause_profile(const std::string& profile, uint64_t ms,
                                     bool close_browser) override;
  std::optional<Error> resume_profile(const std::string& profile) override;
  std::shared_ptr<browser::BrowserSession> session(const std::string& profile) const override;

  EventLog& events() { return context_.events; }
  store::Store& store() { return context_.store; }
  std::function<void(const Error&)> store_failed_handler() {
    return [this](const Error& e) { on_store_failed(e); };
  }

 private:
  Result<int64_t> queue_unfinished();
  void announce_start(const store::BindReport& report, int64_t already_done);
  void dispatch();
  void start_item(ProfileWorker& worker, size_t item_index);
  void item_ended(const std::shared_ptr<InFlight>& flight, Result<nlohmann::json> result,
                  uint64_t dur_ms);
  void maybe_finish();
  // Every profile that could take an item is paused: say so now and every
  // minute until one is back, so that a stalled run is never silent.
  void watch_for_stall(bool reminder = false);
  void announce_stall();
  void finish(int code);
  void on_store_failed(const Error& e);
  ProfileWorker* worker(const std::string& profile) const;
  Error unknown_profile(const std::string& profile, const std::string& op) const;

  const CampaignConfig& config_;
  ItemExecutor& executor_;
  RunContext context_;
  std::vector<std::unique_ptr<ProfileWorker>> workers_;
  std::unordered_map<ProfileWorker*, std::shared_ptr<InFlight>> in_flight_;
  std::deque<size_t> queue_;  // indexes into config_.items, pending
  std::vector<std::string> keys_;
  Finished finished_;
  uint64_t started_ = 0;
  int64_t done_ = 0;
  int64_t failed_ = 0;
  bool stopping_ = false;
  bool finishing_ = false;
  bool store_failed_ = false;
  bool dispatching_ = false;
  Timer stall_timer_;
};

std::optional<Error> DurableRunner::start(Finished finished) {
  finished_ = std::move(finished);
  started_ = steady_ms();
  keys_ = item_keys(config_.items);
  std::vector<store::ItemKey> keyed;
  keyed.reserve(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) {
    keyed.push_back({keys_[i], static_cast<int64_t>(i + 1)});
  }
  auto bound = store().bind(config_.name, keyed, items_content_fingerprint(config_.items));
  if (!bound) return bound.error();
  auto already_done = queue_unfinished();
  if (!already_done) return already_done.error();
  announce_start(bound.value(), already_done.value());
  for (const auto& profile : config_.profiles) {
    workers_.push_back(
        std::make_unique<ProfileWorker>(context_, profile, [this]() { dispatch(); }));
  }
  for (auto& worker : workers_) {
    if (!finishing_) worker->start();
  }
  dispatch();
  return std::nullopt;
}

// Queues, in items-file order, every item the store does not have as done or
// skipped; returns how many it has as done. Rows of items no longer in the
// file are left as they are.
Result<int64_t> DurableRunner::queue_unfinished() {
  auto rows = store().items();
  if (!rows) return rows.error();
  std::unordered_map<std::string, size_t> position;
  position.reserve(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) position.emplace(keys_[i], i);
  int64_t already_done = 0;
  std::vector<bool> queued(keys_.size(), false);
  for (const auto& row : rows.value()) {
    auto at = position.find(row.key);
    if (at == position.end()) continue;  // gone from the items file
    if (row.status == store::ItemStatus::done || row.status == store::ItemStatus::skipped) {
      ++already_done;
      continue;
    }
    queued[at->second] = true;
  }
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (queued[i]) queue_.push_back(i);
  }
  return already_done;
}

void DurableRunner::announce_start(const store::BindReport& report, int64_t already_done) {
  if (report.items_changed && !report.first_run) {
    std::fprintf(stderr,
                 "belay: the items changed since the last run on %s: %lld new, %lld no longer "
                 "listed; done items stay done (resume follows keys)\n",
                 store().path().c_str(), static_cast<long long>(report.added),
                 static_cast<long long>(report.missing));
  }
  events().write(Event{"run_start",
                       "",
                       "",
                       "",
                       {{"items", config_.items.size()},
                        {"pending", queue_.size()},
                        {"done_before", already_done},
                        {"requeued", report.requeued},
                        {"first_run", report.first_run},
                        {"items_changed", report.items_changed},
                        {"added", report.added},
                        {"missing", report.missing},
                        {"profiles", config_.profiles.size()},
                        {"ladder", config_.ladder},
                        {"state", store().path()}},
                       "",
                       {}});
}

void DurableRunner::dispatch() {
  // A worker that becomes ready inside start_item would re-enter here.
  if (dispatching_ || finishing_) return;
  dispatching_ = true;
  for (auto& worker : workers_) {
    if (stopping_ || queue_.empty()) break;
    if (!worker->ready() || in_flight_.count(worker.get()) != 0) continue;
    const size_t index = queue_.front();
    queue_.pop_front();
    start_item(*worker, index);
  }
  dispatching_ = false;
  maybe_finish();
}

void DurableRunner::start_item(ProfileWorker& worker, size_t item_index) {
  const std::string& key = keys_[item_index];
  auto running = store().mark_running(key, worker.name());
  if (!running) return on_store_failed(running.error());
  const store::ItemRecord& row = running.value();
  auto flight = std::make_shared<InFlight>(context_, worker, key, static_cast<int>(item_index + 1),
                                           row.attempts);
  in_flight_[&worker] = flight;
  worker.begin_item(key);
  events().write(Event{"item_start",
                       worker.name(),
                       worker.session_id(),
                       key,
                       {{"index", item_index + 1}, {"attempt", row.attempts}},
                       "",
                       {}});
  ItemAttempt attempt;
  attempt.item = config_.items[item_index];
  attempt.key = key;
  attempt.index = static_cast<int>(item_index + 1);
  attempt.attempt = row.attempts;
  attempt.profile = worker.name();
  attempt.saved = row.saved;
  const uint64_t started = steady_ms();
  executor_.run_item(attempt, worker.session(), flight,
                     [this, flight, started](Result<nlohmann::json> result) {
                       item_ended(flight, std::move(result), steady_ms() - started);
                     });
}

void DurableRunner::item_ended(const std::shared_ptr<InFlight>& flight,
                               Result<nlohmann::json> result, uint64_t dur_ms) {
  flight->end();
  ProfileWorker& worker = flight->worker();
  in_flight_.erase(&worker);
  const std::string& key = flight->key();
  const nlohmann::json where = {{"index", flight->index()}, {"attempt", flight->attempts()}};
  if (store_failed_) return maybe_finish();
  std::optional<Error> item_error;
  if (result) {
    // Durable first, reported second: a kill between the two re-runs the
    // item at worst, and never reports a result that was not kept.
    if (auto e = store().mark_done(key, result.value(), flight->attempts())) {
      return on_store_failed(*e);
    }
    ++done_;
    nlohmann::json params = where;
    params["result"] = result.value();
    events().write(Event{"item_ok", worker.name(), worker.session_id(), key, params, "ok", dur_ms});
  } else {
    const Error& e = result.error();
    item_error = e;
    const bool interrupted = e.kind == Kind::cancelled && stopping_;
    const bool orphaned = worker.state() == ProfileWorker::State::fatal;
    if (interrupted || orphaned) {
      // Not the item's failure: it goes back to pending, for another
      // profile now or for the next run.
      if (auto se = store().mark_pending(key, flight->attempts())) return on_store_failed(*se);
      if (orphaned && !stopping_) queue_.push_front(static_cast<size_t>(flight->index() - 1));
    } else {
      if (auto se = store().mark_failed(key, error_json(e), flight->attempts())) {
        return on_store_failed(*se);
      }
      ++failed_;
      nlohmann::json params = where;
      params.update(error_json(e));
      events().write(
          Event{"item_failed", worker.name(), worker.session_id(), key, params, "fail", dur_ms});
    }
  }
  worker.end_item(item_error);
  dispatch();
}

void DurableRunner::maybe_finish() {
  if (finishing_ || !in_flight_.empty()) return watch_for_stall();
  if (store_failed_ || stopping_ || queue_.empty()) return finish(1);
  // Items are left: finish only when no profile can ever take one.
  for (const auto& worker : workers_) {
    if (worker->state() != ProfileWorker::State::fatal) return watch_for_stall();
  }
  finish(1);
}

void DurableRunner::watch_for_stall(bool reminder) {
  bool any_paused = false;
  bool stalled = !finishing_ && !stopping_ && in_flight_.empty() && !queue_.empty();
  for (const auto& worker : workers_) {
    if (!stalled) break;
    const auto state = worker->state();
    any_paused = any_paused || state == ProfileWorker::State::paused;
    stalled = state == ProfileWorker::State::paused || state == ProfileWorker::State::fatal;
  }
  if (!(stalled && any_paused)) return stall_timer_.cancel();
  if (reminder || !stall_timer_.pending()) announce_stall();
}

void DurableRunner::announce_stall() {
  int64_t until = 0;
  std::string paused;
  for (const auto& worker : workers_) {
    if (worker->state() != ProfileWorker::State::paused) continue;
    const int64_t u = worker->paused_until_ms();
    if (until == 0 || (u > 0 && u < until)) until = u;
    paused += (paused.empty() ? "" : " ") + worker->name();
  }
  const int64_t ms = std::max<int64_t>(0, until - wall_ms());
  events().write(Event{
      "waiting",
      "",
      "",
      "",
      {{"what", "paused"},
       {"why", "every profile that can take an item is paused; " + std::to_string(queue_.size()) +
                   " items wait"},
       {"ms", ms},
       {"until_ms", until},
       {"hint", "belay resume " + paused + " ends the pause now (or resume(p) in belay attach)"}},
      "",
      {}});
  stall_timer_.after(config_.pause.remind_ms, [this]() { watch_for_stall(true); });
}

void DurableRunner::finish(int code) {
  if (finishing_) return;
  finishing_ = true;
  stall_timer_.cancel();
  auto counts = store().counts();
  bool any_fatal = false;
  for (const auto& worker : workers_) {
    any_fatal = any_fatal || worker->state() == ProfileWorker::State::fatal;
  }
  nlohmann::json params = {{"done", done_}, {"failed", failed_}, {"total", config_.items.size()}};
  if (counts) {
    const store::Counts& c = counts.value();
    params["state"] = {{"done", c.done},
                       {"failed", c.failed},
                       {"pending", c.pending},
                       {"running", c.running},
                       {"skipped", c.skipped}};
    // 0 only when every item is done and every profile is standing.
    const bool all_done = c.pending == 0 && c.running == 0 && c.failed == 0;
    if (!store_failed_ && !stopping_ && all_done && !any_fatal) code = 0;
  }
  events().write(
      Event{"run_finish", "", "", "", params, code == 0 ? "ok" : "fail", steady_ms() - started_});
  auto remaining = std::make_shared<size_t>(workers_.size());
  auto done = [this, remaining, code]() {
    if (--*remaining != 0) return;
    Finished finished = std::move(finished_);
    if (finished) finished(code);
  };
  if (workers_.empty()) {
    Finished finished = std::move(finished_);
    if (finished) finished(code);
    return;
  }
  for (auto& worker : workers_) worker->stop(done);
}

void DurableRunner::stop() {
  stopping_ = true;
  maybe_finish();
}

ProfileWorker* DurableRunner::worker(const std::string& profile) const {
  for (const auto& w : workers_) {
    if (w->name() == profile) return w.get();
  }
  return nullptr;
}

Error DurableRunner::unknown_profile(const std::string& profile, const std::string& op) const {
  std::string known;
  for (const auto& w : workers_) known += (known.empty() ? "" : ", ") + w->name();
  return Error{Kind::config, "no profile '" + profile + "' (profiles: " + known + ")", op, {}};
}

nlohmann::json DurableRunner::status() const {
  nlohmann::json out = {{"campaign", config_.name},
                        {"items", config_.items.size()},
                        {"queued", queue_.size()},
                        {"in_flight", in_flight_.size()},
                        {"done", done_},
                        {"failed", failed_},
                        {"stopping", stopping_}};
  auto counts = context_.store.counts();
  if (counts) {
    const store::Counts& c = counts.value();
    out["state"] = {{"done", c.done},
                    {"failed", c.failed},
                    {"pending", c.pending},
                    {"running", c.running},
                    {"skipped", c.skipped}};
  }
  nlohmann::json profiles = nlohmann::json::array();
  for (const auto& w : workers_) {
    auto flight = in_flight_.find(w.get());
    profiles.push_back(
        {{"name", w->name()},
         {"state", state_name(w->state())},
         {"session", w->session_id()},
         {"pid", w->session()->pid()},
         {"dropped_messages", w->dropped_messages()},
         {"item", flight == in_flight_.end() ? nlohmann::json(nullptr)
                                             : nlohmann::json(flight->second->key())}});
  }
  out["profiles"] = std::move(profiles);
  return out;
}

std::optional<Error> DurableRunner::pause_profile(const std::string& profile, uint64_t ms,
                                                  bool close_browser) {
  ProfileWorker* w = worker(profile);
  if (w == nullptr) return unknown_profile(profile, "pause");
  return w->hold(ms, close_browser);
}

std::optional<Error> DurableRunner::resume_profile(const std::string& profile) {
  ProfileWorker* w = worker(profile);
  if (w == nullptr) return unknown_profile(profile, "resume");
  return w->resume();
}

std::shared_ptr<browser::BrowserSession> DurableRunner::session(const std::string& profile) const {
  ProfileWorker* w = worker(profile);
  return w == nullptr ? nullptr : w->session();
}

void DurableRunner::on_store_failed(const Error& e) {
  if (store_failed_) return;
  store_failed_ = true;
  stopping_ = true;
  std::fprintf(stderr, "belay: the state could not be written, stopping: %s\n",
               e.to_string().c_str());
  maybe_finish();
}

}  // namespace

std::unique_ptr<Runner> make_durable_runner(uv_loop_t* loop, const CampaignConfig& config,
                                            ItemExecutor& executor, SupervisorPolicy& policy,
                                            EventLog& events, store::Store& store,
                                            RunOptions options) {
  return std::make_unique<DurableRunner>(loop, config, executor, policy, events, store,
                                         std::move(options));
}

}  // namespace belay::campaign
