#pragma once
// The supervisor's policy in Lua: each decision is made by the campaign's
// own function when it has one (`supervisor`, `pause`, `soft_restart` as a
// function or holding `decide`; `pause.ended`), else its ladder's, else the
// bundled scripts/belay/supervisor.lua. The function gets the facts and the
// campaign's settings for that table, runs as a task of its own on a fresh
// instruction budget, and must decide at once (no browser calls, no waits).
// The campaign version in use is asked for at each decision, so a hot
// reload swaps the policy with the rest of the script.

#include "campaign/supervisor_policy.hpp"
#include "config/campaign.hpp"

#include <functional>
#include <memory>

namespace belay::lua {

class LuaSupervisorPolicy final : public campaign::SupervisorPolicy {
 public:
  using CurrentCampaign = std::function<std::shared_ptr<LoadedCampaign>()>;

  // `module_ref`: registry reference to belay.supervisor's table.
  LuaSupervisorPolicy(Runtime& runtime, int module_ref, CurrentCampaign current)
      : runtime_(runtime), module_ref_(module_ref), current_(std::move(current)) {}

  Result<campaign::PolicyAnswer> decide(campaign::DecisionPoint point, const nlohmann::json& facts,
                                        bool bundled) override;

 private:
  Runtime& runtime_;
  int module_ref_;
  CurrentCampaign current_;
};

}  // namespace belay::lua
