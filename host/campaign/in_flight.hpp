#pragma once
// One item in flight on one profile: what its script may ask of the host
// (events, checkpoints, a pause, the browser) until the item ends, after
// which every request is refused or dropped.

#include "campaign/item_executor.hpp"
#include "campaign/profile_worker.hpp"

#include <functional>
#include <optional>
#include <string>

namespace belay::campaign {

// One item in flight: what its script may ask of the host.
class InFlight final : public ItemHost {
 public:
  InFlight(RunContext& run, ProfileWorker& worker, std::string key, int index, int attempts)
      : run_(run), worker_(worker), key_(std::move(key)), index_(index), attempts_(attempts) {}

  void event(const std::string& name, const nlohmann::json& params, const std::string& outcome,
             std::optional<uint64_t> dur_ms) override;
  std::optional<Error> checkpoint(const nlohmann::json& saved) override;
  void pause_profile(uint64_t ms) override {
    if (!ended_) worker_.request_pause(ms);
  }
  int begin_try() override;

  void when_ready(std::function<void(std::optional<Error>)> done) override {
    if (ended_) return done(Error{Kind::cancelled, "the item has ended", "browser", {}});
    worker_.when_ready(std::move(done));
  }

  ProfileWorker& worker() { return worker_; }
  const std::string& key() const { return key_; }
  int index() const { return index_; }
  int attempts() const { return attempts_; }
  void end() { ended_ = true; }

 private:
  RunContext& run_;
  ProfileWorker& worker_;
  std::string key_;
  int index_;
  int attempts_;
  int tries_ = 0;
  bool ended_ = false;
};

}  // namespace belay::campaign
