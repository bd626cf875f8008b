#pragma once
// Runs items with the campaign's Lua run(page, item, ctx), each item a task
// of its own driven by the bundled belay.attempt (call retry, then the
// ladder). The campaign version in use can be swapped (hot reload): an item
// in flight keeps the version it started with.

#include "campaign/item_executor.hpp"
#include "config/campaign.hpp"

namespace belay::lua {

class LuaExecutor final : public campaign::ItemExecutor {
 public:
  // `driver_ref`: registry reference to belay.attempt's function.
  LuaExecutor(Runtime& runtime, std::shared_ptr<LoadedCampaign> campaign, int driver_ref)
      : runtime_(runtime), campaign_(std::move(campaign)), driver_ref_(driver_ref) {}

  void run_item(const campaign::ItemAttempt& attempt,
                std::shared_ptr<browser::BrowserSession> session,
                std::shared_ptr<campaign::ItemHost> host, Done done) override;

  void use(std::shared_ptr<LoadedCampaign> campaign) { campaign_ = std::move(campaign); }
  const std::shared_ptr<LoadedCampaign>& campaign() const { return campaign_; }

 private:
  Runtime& runtime_;
  std::shared_ptr<LoadedCampaign> campaign_;
  int driver_ref_;
};

}  // namespace belay::lua
