#pragma once
// Recovery ladders (DESIGN.md "A ladder returns a table"): finding one by
// name, loading it in a sandbox of its own, checking it field by field, and
// `from`, which lets a campaign reuse a ladder with some fields changed:
//
//   ladder = { from = "standard", backoff_ms = 500 }
//
// `options` is free-form, for the ladder's own hooks (ctx.ladder.options).
// A ladder may also carry retry/supervisor/soft_restart/health/pause
// tables: they are defaults the campaign's own fields override.

#include "campaign/config.hpp"
#include "config/field_reader.hpp"
#include "vm/runtime.hpp"

#include <optional>
#include <string>

namespace belay::lua {

// The bundled recovery-ladders/ directory (BELAY_LADDERS_DIR overrides).
std::string bundled_ladders_dir();

// Resolves the `ladder` field of the campaign table at `t` (nil: "standard")
// and pushes the ladder table onto L. Applies the ladder's policy fields to
// `c` and records its name and files there. False (nothing pushed) when `r`
// has failed.
bool push_ladder(Runtime& runtime, lua_State* L, int t, Reader& r, campaign::CampaignConfig& c);

// Checks the ladder table at `idx` as found in `file` (belay check).
std::optional<Error> check_ladder(Runtime& runtime, lua_State* L, int idx, const std::string& file,
                                  const std::string& source);

}  // namespace belay::lua
