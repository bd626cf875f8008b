#pragma once
// What one soak phase proves, counted from the three witnesses belay cannot
// argue with: the store (done/failed/lost), the fixture server's per-item
// execution counters, and events.jsonl (recoveries by layer); plus what the
// soak did itself (chaos actions, host kills) and what was left running.

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "soak_campaign.hpp"

namespace belay::soak {

// What the phase runner saw, beside the store and the events.
struct PhaseLog {
  std::string mode;                     // "chaos" or "host-kill"
  std::string transport;                // of the first run
  std::vector<std::string> host_exits;  // each host run's end, in order
  int host_kills = 0;
  std::map<std::string, int> chaos_done;     // chaos actions by kind
  std::map<std::string, int> chaos_skipped;  // no live target at the time
  int held_resumed = 0;                      // stopped processes the soak resumed
  int held_ended = 0;                        // stopped processes belay ended first
  std::vector<std::string> orphans;          // "pid cmdline" left after the end
  bool timed_out = false;                    // --seconds ran out
  double seconds = 0;
};

struct PhaseFigures {
  PhaseLog log;
  int total = 0, done = 0, failed = 0, lost = 0;
  std::vector<std::string> lost_keys;  // "key (status)" of each lost item
  std::vector<std::string> problems;   // each a line naming an item or a finding
  int wrong_results = 0;               // done, but the result is not what the page showed
  int done_twice = 0;                  // more than one item_ok for an item
  int done_unexecuted = 0;             // done, yet the fixture never served it
  // Executions per item, from the fixture's counters.
  int exec_min = 0, exec_median = 0, exec_max = 0;
  int ran_more_than_once = 0;
  int dup_item_fault = 0;  // of those: the item injected a fault of its own
  int dup_retried = 0;     // of those: no fault of its own, tried again after chaos
  int unexplained = 0;     // executions beyond belay's tries and reload/back steps
  std::map<std::string, int> item_faults;
  // Recoveries by layer, from events.jsonl.
  std::map<std::string, int> retries;           // by kind
  std::map<std::string, int> recovered;         // ladder step that succeeded
  std::map<std::string, int> ladder_failed;     // ladder step tries that failed
  std::map<std::string, int> page_restarts;     // scope page, by reason
  std::map<std::string, int> browser_restarts;  // scope browser, by reason
  std::map<std::string, int> heartbeat_missed;  // by target
  int browser_exits = 0, launches = 0, launch_failures = 0;
  int soft_restarts = 0, fatals = 0, pauses = 0;
  int orphans_reaped = 0;  // ended by a restarted host (cleanup events)
  int bad_event_lines = 0;

  bool ok() const;
  nlohmann::json to_json() const;
  void print(std::FILE* out) const;
};

// Reads the store of `state_dir` and puts the figures together.
PhaseFigures collect_figures(PhaseLog log, const std::vector<SoakItem>& items,
                             const std::string& state_dir,
                             const std::vector<nlohmann::json>& events, int bad_event_lines,
                             const std::map<std::string, int>& hits);

}  // namespace belay::soak
