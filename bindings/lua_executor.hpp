#pragma once
// Runs items with the campaign's Lua run(page, item, ctx), each attempt a
// task of its own. The campaign version in use can be swapped (hot reload):
// an attempt in flight keeps the version it started with.

#include "campaign.hpp"
#include "campaign/item_executor.hpp"

namespace belay::lua {

class LuaExecutor final : public campaign::ItemExecutor {
 public:
  LuaExecutor(Runtime& runtime, std::shared_ptr<LoadedCampaign> campaign)
      : runtime_(runtime), campaign_(std::move(campaign)) {}

  void run_item(const campaign::ItemAttempt& attempt,
                std::shared_ptr<campaign::BrowserSession> session, Done done) override;

  void use(std::shared_ptr<LoadedCampaign> campaign) { campaign_ = std::move(campaign); }
  const std::shared_ptr<LoadedCampaign>& campaign() const { return campaign_; }

 private:
  Runtime& runtime_;
  std::shared_ptr<LoadedCampaign> campaign_;
};

}  // namespace belay::lua
