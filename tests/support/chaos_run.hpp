#pragma once
// What the chaos tests share: a campaign directory with items on the
// fixture server, a state directory, the events a run wrote, and the check
// that nothing belay launched is left once a test is over.

#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace belay::test {

class ChaosRun {
 public:
  ChaosRun();

  const std::string& state() const { return state_; }
  std::string events_path() const { return state_ + "/events.jsonl"; }
  BackgroundFixtureServer& server() { return server_; }
  TempDir& dir() { return dir_; }

  // items.jsonl with `count` items item-1.. on /item?key=…, and the
  // campaign; returns the campaign's path.
  std::string write_campaign(const std::string& source, int count);
  std::vector<std::string> run_args(const std::string& campaign,
                                    std::vector<std::string> extra = {}) const;

  std::vector<nlohmann::json> events() const { return read_events(events_path()); }
  // PIDs of the ok browser_launch events of `profile` (all when empty), in
  // order.
  std::vector<pid_t> launched_pids(const std::string& profile = "") const;
  // Waits for the n-th ok launch of `profile`; its PID, or 0.
  pid_t wait_for_launch(size_t n, std::chrono::milliseconds timeout, BelayProcess* process,
                        const std::string& profile = "");
  size_t count(const std::string& event) const;
  // SIGKILLs (by the PID belay reported) each browser of `profile` as soon
  // as its launch is logged, until `process` exits or `timeout` passes;
  // returns the PIDs killed.
  std::set<pid_t> kill_each_launch(const std::string& profile, BelayProcess& process,
                                   std::chrono::milliseconds timeout) const;

  // Live processes belay marked for this state, or whose command line names
  // it (its profiles' user-data-dirs), after waiting for them to go; those
  // in `except` and in their process groups are not counted.
  std::vector<pid_t> left_behind(std::chrono::milliseconds wait,
                                 const std::vector<pid_t>& except = {}) const;

 private:
  TempDir dir_;
  std::string state_;
  BackgroundFixtureServer server_;
};

std::vector<nlohmann::json> of_event(const std::vector<nlohmann::json>& events,
                                     const std::string& name);
std::string event_names(const std::vector<nlohmann::json>& events);

}  // namespace belay::test
