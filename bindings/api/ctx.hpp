#pragma once
// ctx, the third argument of run(page, item, ctx): what the item is, where
// it runs, and the moves a script may make itself (DESIGN.md "ctx").

#include "campaign/item_executor.hpp"

#include <lua.hpp>

namespace belay::lua {

void register_ctx(lua_State* L);
// The item host as a userdata (weak), and back; null once the item ended.
void push_item_host(lua_State* L, const std::shared_ptr<campaign::ItemHost>& host);
std::shared_ptr<campaign::ItemHost> item_host_at(lua_State* L, int idx);
// Pushes the ctx table for one item; `campaign_idx` holds the campaign
// table. `host` may be null (no runner: events go to the runtime's hooks).
void push_ctx(lua_State* L, const campaign::ItemAttempt& attempt,
              const std::shared_ptr<browser::BrowserSession>& session,
              const std::shared_ptr<campaign::ItemHost>& host, int campaign_idx);

}  // namespace belay::lua
