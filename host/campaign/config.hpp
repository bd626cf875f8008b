#pragma once
// A campaign's settings as the host uses them, read from the campaign table
// by bindings/campaign.cpp. Defaults are DESIGN.md's.

#include "browser/dialog.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace belay::campaign {

struct ProfileConfig {
  std::string name;
  std::string connect;        // ws://… to attach instead of launching
  std::string user_data_dir;  // default: STATE/profiles/NAME
  std::vector<std::string> flags;
};

struct RetryConfig {
  int attempts = 3;
  double base_ms = 1000;
  double factor = 2;
  double max_ms = 30000;
  double jitter = 0.5;
  std::vector<std::string> kinds = {"context_destroyed", "target_closed", "timeout"};
};

struct SupervisorConfig {
  int max_restarts = 10;
  uint64_t period_ms = 600000;
  uint64_t delay_ms = 3000;
};

struct SoftRestartConfig {
  uint64_t items = 500;
  uint64_t ms = 2ull * 3600 * 1000;
  // The browser's memory (proportional set size summed over its process
  // group) past which it is restarted between items; 0: no cap.
  uint64_t memory_mb = 2048;
};

struct HealthConfig {
  uint64_t interval_ms = 30000;
  uint64_t timeout_ms = 5000;
};

struct PauseConfig {
  int max_error_streak = 3;
  uint64_t ms = 24ull * 3600 * 1000;
  // How often a run whose every profile is paused says so again.
  uint64_t remind_ms = 60 * 1000;
};

// Default timeouts of script calls that name none (opts.timeout).
struct TimeoutsConfig {
  uint64_t action_ms = 10000;      // element actions, reads that wait, waits
  uint64_t navigation_ms = 30000;  // navigate, reload, back, forward
  uint64_t call_ms = 30000;        // everything else: evaluate, cdp, captures, …
};

struct CampaignConfig {
  std::string name;
  std::string file;          // the campaign script
  std::string items_source;  // file name, "array" or "iterator"
  std::vector<nlohmann::json> items;
  std::vector<ProfileConfig> profiles;
  std::string home;
  std::string ladder = "standard";        // the ladder's name
  std::vector<std::string> ladder_files;  // the files it was read from (watched)
  std::vector<std::string> ladder_steps;  // step names, in order
  uint64_t ladder_backoff_ms = 0;
  RetryConfig retry;
  SupervisorConfig supervisor;
  SoftRestartConfig soft_restart;
  HealthConfig health;
  PauseConfig pause;
  TimeoutsConfig timeouts;
  std::vector<std::string> files;  // extra folders page:upload may read, as written
  // How a dialog no page:on("dialog") handler answers is answered.
  browser::DialogPolicy dialogs = browser::DialogPolicy::dismiss;
};

}  // namespace belay::campaign
