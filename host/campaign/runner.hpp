#pragma once
// The runner decides when and where items run. This first runner takes the
// items in order on the campaign's first profile; the durable runner
// (store, profiles in parallel, retries, ladders) replaces it behind the
// same Runner interface.

#include "campaign/browser_session.hpp"
#include "campaign/config.hpp"
#include "campaign/event_log.hpp"
#include "campaign/item_executor.hpp"

#include <functional>
#include <memory>

namespace belay::campaign {

struct RunOptions {
  std::string state_dir = ".belay";
  chrome::TransportKind transport = chrome::TransportKind::pipe;
  std::string chrome_path = "/usr/bin/chromium";
  bool headless = true;
  std::string connect;  // --connect: attach every profile to this browser
};

class Runner {
 public:
  using Finished = std::function<void(int exit_code)>;
  virtual ~Runner() = default;
  virtual void start(Finished finished) = 0;
  // Stop starting items; the one in flight ends, then the browser closes.
  virtual void stop() = 0;
};

// The launch spec of one profile (its own user-data-dir under the state dir).
BrowserSpec browser_spec(const ProfileConfig& profile, const RunOptions& options);

std::unique_ptr<Runner> make_sequential_runner(uv_loop_t* loop, const CampaignConfig& config,
                                               ItemExecutor& executor, EventLog& events,
                                               RunOptions options);

}  // namespace belay::campaign
