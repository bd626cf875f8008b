#pragma once
// Tab completion at the console: the word before the cursor is a path of
// names (`belay.log.in`, `page:nav`); its last part is completed from the
// fields of what the rest names — globals of the console's environment,
// table fields, a read-only proxy's fields, and the methods of the host's
// userdata (page, browser) — read raw, so no script code runs.

#include <lua.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace belay::lua {

// Whole words that may replace `word` (sorted, unique): "page:navigate" for
// "page:nav". `env_idx` holds the console's environment table.
std::vector<std::string> completion_candidates(lua_State* L, int env_idx, std::string_view word);

}  // namespace belay::lua
