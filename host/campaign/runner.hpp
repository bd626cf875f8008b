#pragma once
// The runner decides when and where items run: which profile takes which
// item, what is durable when, when the run is over. What running an item
// means is the ItemExecutor's (the script's).

#include "browser/browser_session.hpp"
#include "browser/browser_spec.hpp"
#include "campaign/config.hpp"
#include "campaign/event_log.hpp"
#include "campaign/item_executor.hpp"
#include "campaign/supervisor_policy.hpp"
#include "store/store.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace belay::campaign {

// How the run starts its browsers and where its state is.
struct RunOptions : browser::BrowserDefaults {};

class Runner {
 public:
  using Finished = std::function<void(int exit_code)>;
  virtual ~Runner() = default;
  // Binds the items to the state and starts every profile. An error here
  // (the state belongs to another campaign, cannot be read) means nothing
  // started and `finished` will not be called.
  virtual std::optional<Error> start(Finished finished) = 0;
  // Stop starting items; the ones in flight end (cancelled calls end them
  // at once), go back to pending, then the browsers close.
  virtual void stop() = 0;

  // What an operator may do to a live run (belay attach).
  // Counts from the store and each profile's state.
  virtual nlohmann::json status() const = 0;
  // No new item starts on the profile for `ms` (an item in flight ends
  // first); its browser stays open unless `close_browser`.
  // resume_profile() ends the pause early.
  virtual std::optional<Error> pause_profile(const std::string& profile, uint64_t ms,
                                             bool close_browser) = 0;
  virtual std::optional<Error> resume_profile(const std::string& profile) = 0;
  // The profile's browser and current page; null for an unknown profile.
  virtual std::shared_ptr<browser::BrowserSession> session(const std::string& profile) const = 0;
};

// `policy` makes the supervisor's decisions (restart, pause, soft restart).
std::unique_ptr<Runner> make_durable_runner(uv_loop_t* loop, const CampaignConfig& config,
                                            ItemExecutor& executor, SupervisorPolicy& policy,
                                            EventLog& events, store::Store& store,
                                            RunOptions options);

}  // namespace belay::campaign
