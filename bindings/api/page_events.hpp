#pragma once
// page:on, page:off and page:expect (DESIGN.md "Lua API", Events): a
// script's handlers for what a page tells it. Each handler call is a task of
// its own, started from the loop (never inside the connection's callback),
// one at a time per page in the order the page told; a handler that raises
// is a `handler_failed` event, never the item's failure. Subscriptions end
// with page:off, the page, the task that made them (the item, the console
// line) or a reload, whichever comes first.

#include "browser/browser_session.hpp"

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace belay::lua {

class Runtime;

// The page methods on, off and expect.
void add_event_methods(std::vector<luaL_Reg>* methods);
// The metatables of what they hand out: dialogs, subscriptions.
void register_event_types(lua_State* L);
// For page:on and page:expect: checks the event name at `idx` (a name
// page:on knows); false with the error pushed.
bool check_event_name(lua_State* L, int idx, const char* op, std::string* out);
// Pushes what a handler (or page:expect) gets for an event: its payload as
// a table, except a popup's, which is the popup's page (of `session`).
void push_event_payload(lua_State* L, const std::string& name, const nlohmann::json& payload,
                        const std::shared_ptr<browser::BrowserSession>& session);
// page:expect (page_expect.cpp) and the metatable of what it watches with.
int l_page_expect(lua_State* L);
void register_expect_type(lua_State* L);

// Ends every subscription of the runtime (a reload: the handlers belong to
// the old version of the script).
void end_all_subscriptions(Runtime& runtime);

}  // namespace belay::lua
