#include "soak_phase.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "chrome/orphans.hpp"
#include "chrome/proc_table.hpp"
#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"

namespace belay::soak {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollEvery{20};
constexpr milliseconds kProgressEvery{10000};
// A host that gives up (SIGTERM) gets this long to end its items and browsers.
constexpr milliseconds kStopGrace{20000};
// After the last host, how long its browsers get to go before they count as
// left.
constexpr milliseconds kOrphanWait{10000};
// A host kill lands this long after its item count is reached, at most.
constexpr uint64_t kKillJitterMs = 800;

// item_ok events seen so far, counted as the tail grows.
struct OkCounter {
  size_t scanned = 0;
  int oks = 0;
  void update(const EventTail& tail) {
    const auto& events = tail.events();
    for (; scanned < events.size(); ++scanned) {
      if (text(events[scanned], "event") == "item_ok") ++oks;
    }
  }
};

class Phase {
 public:
  Phase(const PhaseSetup& setup, const Log& log)
      : s_(setup), log_(log), state_(setup.dir + "/state"), tail_(state_ + "/events.jsonl") {}

  PhaseFigures run(Rng rng);

 private:
  bool must_stop() const {
    return Clock::now() >= s_.deadline || (s_.interrupted != nullptr && *s_.interrupted != 0);
  }
  std::vector<std::string> args(const std::string& transport) const;
  std::unique_ptr<test::BelayProcess> start_host(const std::string& transport);
  void watch(test::BelayProcess& host);
  void give_up(test::BelayProcess& host);
  void run_chaos(Rng rng);
  void run_host_kills(Rng rng);
  std::vector<int> plan_kills(Rng& rng) const;
  void log_progress();

  const PhaseSetup& s_;
  const Log& log_;
  std::string state_;
  std::string campaign_;
  EventTail tail_;
  OkCounter ok_;
  PhaseLog plog_;
  int runs_ = 0;
  Clock::time_point last_progress_ = Clock::now();
};

std::vector<std::string> Phase::args(const std::string& transport) const {
  std::vector<std::string> a = {"run",         campaign_,     "--state", state_,
                                "--no-reload", "--transport", transport};
  if (!s_.chrome.empty()) {
    a.emplace_back("--chrome");
    a.push_back(s_.chrome);
  }
  return a;
}

std::unique_ptr<test::BelayProcess> Phase::start_host(const std::string& transport) {
  ++runs_;
  test::BelayOptions options;
  options.binary = s_.belay;
  options.cwd = std::filesystem::current_path().string();  // the paths given are as typed
  options.dies_with_parent = true;
  auto host = std::make_unique<test::BelayProcess>(args(transport), s_.dir, options);
  log_(s_.mode + ": host run " + std::to_string(runs_) + " pid " + std::to_string(host->pid()) +
       " (" + transport + ")");
  return host;
}

void Phase::log_progress() {
  if (Clock::now() - last_progress_ < kProgressEvery) return;
  last_progress_ = Clock::now();
  log_(s_.mode + ": " + std::to_string(ok_.oks) + "/" + std::to_string(s_.items) + " items done");
}

void Phase::give_up(test::BelayProcess& host) {
  plog_.timed_out = true;
  log_(s_.mode + ": giving up (--seconds or a signal): SIGTERM to host " +
       std::to_string(host.pid()));
  host.send_signal(SIGTERM);
  if (!host.wait_for_exit(kStopGrace)) host.kill_now();
}

void Phase::run_chaos(Rng rng) {
  auto host = start_host(s_.transport);
  ChaosDriver driver(state_, profile_names(s_.profiles), rng, s_.timing, log_);
  while (host->running() && !must_stop()) {
    tail_.poll();
    ok_.update(tail_);
    driver.tick(host->pid(), tail_);
    log_progress();
    std::this_thread::sleep_for(kPollEvery);
  }
  driver.release_all();
  if (host->running()) give_up(*host);
  plog_.host_exits.push_back(host->exit_summary());
  if (host->exit_code() != 0)
    log_(s_.mode + ": host " + host->exit_summary() + "\n" + host->err_tail(15));
  plog_.chaos_done = driver.done();
  plog_.chaos_skipped = driver.skipped();
  plog_.held_resumed = driver.resumed();
  plog_.held_ended = driver.ended_while_held();
}

// Distinct item counts in [1, items-1], ascending: after that many items
// are done, the host is killed.
std::vector<int> Phase::plan_kills(Rng& rng) const {
  std::set<int> at;
  const int kills = std::min(s_.host_kills, s_.items - 1);
  while (static_cast<int>(at.size()) < kills)
    at.insert(static_cast<int>(rng.between(1, s_.items - 1)));
  return {at.begin(), at.end()};
}

void Phase::run_host_kills(Rng rng) {
  const std::vector<int> kill_at = plan_kills(rng);
  size_t next = 0;
  while (true) {
    // Odd runs on the transport asked for, even runs on ws.
    auto host = start_host(runs_ % 2 == 1 ? "ws" : s_.transport);
    const int ok_at_start = ok_.oks;
    bool killed = false;
    while (host->running() && !must_stop()) {
      tail_.poll();
      ok_.update(tail_);
      log_progress();
      // Each run does at least one item of its own before it is killed.
      if (next < kill_at.size() && ok_.oks >= kill_at[next] && ok_.oks > ok_at_start) {
        std::this_thread::sleep_for(milliseconds(rng.between(0, kKillJitterMs)));
        ++next;
        if (!host->running()) break;
        host->kill_now();
        killed = true;
        ++plog_.host_kills;
        log_("host-kill: SIGKILL host " + std::to_string(host->pid()) + " after " +
             std::to_string(ok_.oks) + " items");
        break;
      }
      std::this_thread::sleep_for(kPollEvery);
    }
    if (host->running()) give_up(*host);
    plog_.host_exits.push_back(host->exit_summary());
    if (!killed && host->exit_code() != 0) {
      log_(s_.mode + ": host " + host->exit_summary() + "\n" + host->err_tail(15));
    }
    if (!killed || plog_.timed_out) break;
  }
}

// Processes marked for the state, or naming it (its profiles), after
// waiting for them to go; each is then ended by its PID, so the soak
// leaves nothing behind whatever belay did.
std::vector<std::string> end_left_behind(const std::string& state) {
  const auto deadline = Clock::now() + kOrphanWait;
  std::vector<pid_t> left;
  while (true) {
    left.clear();
    for (const auto& p : chrome::find_marked_processes(state)) left.push_back(p.pid);
    for (pid_t pid : test::processes_mentioning(state)) left.push_back(pid);
    std::sort(left.begin(), left.end());
    left.erase(std::unique(left.begin(), left.end()), left.end());
    if (left.empty() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::vector<std::string> described;
  for (pid_t pid : left) {
    std::string cmdline = test::cmdline_of(pid);
    if (cmdline.size() > 160) cmdline = cmdline.substr(0, 160) + "...";
    described.push_back(std::to_string(pid) + " " + cmdline);
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGKILL);
  }
  return described;
}

PhaseFigures Phase::run(Rng rng) {
  std::filesystem::create_directories(s_.dir + "/campaign");
  test::BackgroundFixtureServer server;
  Rng items_rng = rng.fork(1);
  Rng chaos_rng = rng.fork(2);
  const auto items =
      write_campaign(s_.dir + "/campaign", {s_.items, s_.profiles, server.url("")}, items_rng);
  campaign_ = s_.dir + "/campaign/campaign.lua";
  plog_.mode = s_.mode;
  plog_.transport = s_.mode == "host-kill" ? s_.transport + "/ws" : s_.transport;
  const auto started = Clock::now();
  if (s_.mode == "chaos") {
    run_chaos(chaos_rng);
  } else {
    run_host_kills(chaos_rng);
  }
  plog_.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  tail_.poll();
  plog_.orphans = end_left_behind(state_);
  const auto hits = server.all_hits();
  server.shutdown();
  return collect_figures(plog_, items, state_, tail_.events(), tail_.bad_lines(), hits);
}

}  // namespace

PhaseFigures run_phase(const PhaseSetup& setup, const Log& log) {
  Phase phase(setup, log);
  return phase.run(Rng(setup.seed));
}

}  // namespace belay::soak
