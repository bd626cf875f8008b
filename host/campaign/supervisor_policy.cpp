#include "campaign/supervisor_policy.hpp"

#include <cmath>
#include <initializer_list>

namespace belay::campaign {
namespace {

using json = nlohmann::json;

// Past this a delay or a pause is surely a unit mistake (ms for s): a year.
constexpr double kMaxMs = 365.0 * 24 * 3600 * 1000;

Error bad(const PolicyAnswer& answer, const std::string& message) {
  return Error{
      Kind::config, answer.function + " returned a bad decision: " + message, "supervisor", {}};
}

// The decision's keys must all be known: a typo'd key would otherwise be a
// decision silently not taken.
std::optional<Error> check_keys(const PolicyAnswer& answer,
                                std::initializer_list<const char*> known) {
  if (!answer.decision.is_object()) {
    return bad(answer, "expected a table or nil, got " + std::string(answer.decision.type_name()));
  }
  for (const auto& [key, value] : answer.decision.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      return bad(answer, "unknown field '" + key + "' (known: " + list + ")");
    }
  }
  return std::nullopt;
}

Result<uint64_t> read_ms(const PolicyAnswer& answer, const char* key, bool required) {
  const json& d = answer.decision;
  if (!d.contains(key)) {
    if (required) return bad(answer, std::string(key) + " is missing");
    return uint64_t{0};
  }
  const json& v = d.at(key);
  if (!v.is_number()) {
    return bad(answer, std::string(key) + " must be a number of ms, got " + v.type_name());
  }
  const double ms = v.get<double>();
  if (!std::isfinite(ms) || ms < 0 || ms > kMaxMs) {
    return bad(answer, std::string(key) + " must be between 0 and " +
                           std::to_string(static_cast<uint64_t>(kMaxMs)) + " ms, got " + v.dump());
  }
  return static_cast<uint64_t>(std::llround(ms));
}

Result<std::string> read_text(const PolicyAnswer& answer, const char* key,
                              std::string_view fallback) {
  const json& d = answer.decision;
  if (!d.contains(key)) return std::string(fallback);
  if (!d.at(key).is_string() || d.at(key).get<std::string>().empty()) {
    return bad(answer, std::string(key) + " must be a non-empty string, got " + d.at(key).dump());
  }
  return d.at(key).get<std::string>();
}

}  // namespace

std::string_view name(DecisionPoint point) {
  switch (point) {
    case DecisionPoint::after_death:
      return "after_death";
    case DecisionPoint::after_item:
      return "after_item";
    case DecisionPoint::between_items:
      return "between_items";
    case DecisionPoint::pause_ended:
      return "pause_ended";
  }
  return "?";
}

Result<DeathDecision> read_death_decision(const PolicyAnswer& answer) {
  if (answer.decision.is_null()) {
    return bad(answer,
               "a browser death needs a decision: {action = \"restart\", delay_ms = N} "
               "or {action = \"fatal\", reason = \"…\"}");
  }
  if (auto e = check_keys(answer, {"action", "delay_ms", "reason"})) return *e;
  auto action = read_text(answer, "action", "");
  if (!action) return action.error();
  DeathDecision decision;
  if (action.value() == "fatal") {
    decision.fatal = true;
    auto reason = read_text(answer, "reason", "");
    if (!reason) return reason.error();
    if (reason.value().empty()) return bad(answer, "a fatal decision needs a reason");
    if (answer.decision.contains("delay_ms"))
      return bad(answer, "a fatal decision has no delay_ms");
    decision.reason = reason.value();
    return decision;
  }
  if (action.value() != "restart") {
    return bad(answer, "action must be \"restart\" or \"fatal\", got " +
                           (action.value().empty() ? std::string("nothing")
                                                   : "\"" + action.value() + "\""));
  }
  auto delay = read_ms(answer, "delay_ms", false);
  if (!delay) return delay.error();
  auto reason = read_text(answer, "reason", "");
  if (!reason) return reason.error();
  decision.delay_ms = delay.value();
  decision.reason = reason.value();
  return decision;
}

Result<std::optional<PauseDecision>> read_pause_decision(const PolicyAnswer& answer,
                                                         std::string_view default_reason) {
  if (answer.decision.is_null()) return std::optional<PauseDecision>();
  if (auto e = check_keys(answer, {"pause_ms", "reason", "close_browser"})) return *e;
  PauseDecision decision;
  auto ms = read_ms(answer, "pause_ms", true);
  if (!ms) return ms.error();
  auto reason = read_text(answer, "reason", default_reason);
  if (!reason) return reason.error();
  if (answer.decision.contains("close_browser")) {
    if (!answer.decision.at("close_browser").is_boolean()) {
      return bad(answer, "close_browser must be true or false");
    }
    decision.close_browser = answer.decision.at("close_browser").get<bool>();
  }
  decision.ms = ms.value();
  decision.reason = reason.value();
  return std::optional<PauseDecision>(decision);
}

Result<std::optional<SoftRestartDecision>> read_soft_restart_decision(const PolicyAnswer& answer) {
  if (answer.decision.is_null()) return std::optional<SoftRestartDecision>();
  if (auto e = check_keys(answer, {"reason", "detail"})) return *e;
  SoftRestartDecision decision;
  auto reason = read_text(answer, "reason", "");
  if (!reason) return reason.error();
  if (reason.value().empty()) return bad(answer, "a soft restart needs a reason");
  decision.reason = reason.value();
  if (answer.decision.contains("detail")) {
    const json& detail = answer.decision.at("detail");
    if (!detail.is_object()) return bad(answer, "detail must be a table of named fields");
    decision.detail = detail;
  }
  return std::optional<SoftRestartDecision>(decision);
}

}  // namespace belay::campaign
