#pragma once
#include "campaign/item_executor.hpp"

#include <lua.hpp>

namespace belay::lua {
// Pushes the ctx table for one attempt; `campaign_idx` holds the campaign
// table.
void push_ctx(lua_State* L, const campaign::ItemAttempt& attempt,
              const std::shared_ptr<campaign::BrowserSession>& session, int campaign_idx);
}  // namespace belay::lua
