#pragma once
// The recovery settings a campaign and a ladder may both carry: retry,
// supervisor, soft_restart, health, pause. A ladder's values are defaults
// that the campaign's own fields override one by one, so each reader only
// sets the fields that are written.

#include "campaign/config.hpp"
#include "config/field_reader.hpp"

#include <string>

namespace belay::lua {

// Reads the policy fields of the table at `t`; `prefix` names the table in
// messages ("" for a campaign, "ladder." for a ladder written inline).
void read_policy_fields(Reader& r, lua_State* L, int t, const std::string& prefix,
                        campaign::CampaignConfig& c);

}  // namespace belay::lua
