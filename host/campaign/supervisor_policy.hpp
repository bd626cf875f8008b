#pragma once
// The supervisor's decisions are policy, so a script makes them: after a
// browser death (restart now, after a delay, or declare the profile fatal),
// after an item (pause the profile or not), between items (a soft restart or
// not) and when a pause runs out (resume or pause again). The worker gives
// the facts as JSON and carries out the decision that comes back; bindings/
// implement the policy with scripts/belay/supervisor.lua and the campaign's
// own functions (the runner never sees Lua).
//
// A decision is read here, field by field: a malformed one is a `config`
// error naming the function that made it, and the worker asks the bundled
// policy instead (ProfileWorker::decide).

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace belay::campaign {

enum class DecisionPoint {
  after_death,    // the campaign's `supervisor`: a browser died, hung or will be restarted
  after_item,     // `pause`: an item ended
  between_items,  // `soft_restart`: the worker is about to take the next item
  pause_ended,    // `pause.ended`: a pause ran out
};

// "after_death", …: the bundled module's function of that name decides.
std::string_view name(DecisionPoint point);

struct PolicyAnswer {
  nlohmann::json decision;  // what the function returned; null for nil or false
  // Which function decided, for messages: "campaign pause.decide
  // (greet.lua:12)" or "belay.supervisor.after_item".
  std::string function;
};

class SupervisorPolicy {
 public:
  virtual ~SupervisorPolicy() = default;
  // Calls the campaign's function for `point` (the bundled one when it has
  // none, or when `bundled` is set). A function that raises, waits or
  // returns something that is not JSON is a `config` error naming it.
  virtual Result<PolicyAnswer> decide(DecisionPoint point, const nlohmann::json& facts,
                                      bool bundled) = 0;
};

// after_death: { action = "restart", delay_ms = N } or
// { action = "fatal", reason = "…" }.
struct DeathDecision {
  bool fatal = false;
  uint64_t delay_ms = 0;
  std::string reason;
};
Result<DeathDecision> read_death_decision(const PolicyAnswer& answer);

// after_item and pause_ended: nil (no pause) or
// { pause_ms = N, reason = "…", close_browser = true }.
struct PauseDecision {
  uint64_t ms = 0;
  std::string reason;
  bool close_browser = true;
};
Result<std::optional<PauseDecision>> read_pause_decision(const PolicyAnswer& answer,
                                                         std::string_view default_reason);

// between_items: nil (none) or { reason = "…", detail = { … } }; `detail`'s
// fields go into the `soft_restart` event.
struct SoftRestartDecision {
  std::string reason;
  nlohmann::json detail = nlohmann::json::object();
};
Result<std::optional<SoftRestartDecision>> read_soft_restart_decision(const PolicyAnswer& answer);

}  // namespace belay::campaign
