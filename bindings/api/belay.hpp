#pragma once
// The `belay` table scripts see: sleep, now, log, json, error, all
// (belay_all.hpp), and the Lua
// libraries retry, saga and circuit (scripts/belay/*.lua), behind a
// read-only proxy. Also the sandbox's `require` for Lua modules.

#include "vm/runtime.hpp"

#include <string>
#include <vector>

namespace belay::lua {

// Where bundled Lua lives (scripts/), compiled in; BELAY_SCRIPTS_DIR in the
// environment overrides it for an installed copy.
std::string bundled_scripts_dir();

// Builds `belay` and `require` into every sandbox environment of this
// runtime. `module_dirs` are searched in order by require (the campaign's
// own directory first, then the bundled scripts). Returns false and pushes
// an error table on the main thread when a bundled library fails to load.
bool install_belay(Runtime& runtime, const std::vector<std::string>& module_dirs);

}  // namespace belay::lua
