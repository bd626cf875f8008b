#include "soak_campaign.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace belay::soak {
namespace {

// Percent of items with each fault of their own.
constexpr uint64_t kCrashPercent = 5;
constexpr uint64_t kNavigatePercent = 5;
constexpr uint64_t kHangPercent = 5;

// Recovery tuned for a soak: retries and ladder steps 100 ms apart, the
// supervisor relaunching after 200 ms and never giving a profile up (the
// chaos restarts browsers far more often than max_restarts allows for a
// real campaign), a heartbeat every second, and a short pause so that a
// streak of failures cannot park a profile for a day.
constexpr const char* kCampaign =
    R"LUA(-- Written by belay-soak (tests/chaos/soak): see tests/chaos/README.md.
local profiles = { PROFILES }

return {
  name = "soak",
  items = "items.jsonl",
  profiles = profiles,
  home = "HOME",
  ladder = { from = "standard", backoff_ms = 100 },
  retry = { attempts = 3, base_ms = 100, max_ms = 1000,
            kinds = { "context_destroyed", "target_closed", "target_crashed", "timeout",
                      "navigation_failed" } },
  supervisor = { max_restarts = 100000, period_ms = 600000, delay_ms = 200 },
  health = { interval_ms = INTERVAL, timeout_ms = TIMEOUT },
  pause = { max_error_streak = 5, ms = 2000 },
  run = function(page, item, ctx)
    page:navigate(item.url)  -- the fixture counts this execution
    -- An item's own fault fires once: the checkpoint outlives retries and
    -- host restarts.
    local fault = nil
    if item.fault and ctx.saved == nil then
      fault = item.fault
      ctx:checkpoint({ fault = fault })
    end
    if fault == "crash" then
      page:cdp("Page.crash")
    elseif fault == "hang" then
      page:navigate(item.hang_url, { timeout = 1500 })
    end
    local read = "new Promise((resolve) => setTimeout(() => resolve({" ..
      "key: document.getElementById('key').textContent, " ..
      "count: Number(document.getElementById('count').textContent) }), " ..
      item.step_ms .. "))"
    if fault == "navigate" then
      -- Started inside the read, so it cannot land before the read begins.
      read = "setTimeout(() => { location.href = '/page2' }, " .. (item.step_ms // 2) .. ");\n" ..
        read
    end
    local got = page:evaluate(read)
    return { key = got.key, count = got.count, attempt = ctx.attempt, profile = ctx.profile }
  end,
}
)LUA";

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string pick_fault(Rng& rng) {
  const uint64_t r = rng.below(100);
  if (r < kCrashPercent) return "crash";
  if (r < kCrashPercent + kNavigatePercent) return "navigate";
  if (r < kCrashPercent + kNavigatePercent + kHangPercent) return "hang";
  return "";
}

}  // namespace

std::vector<std::string> profile_names(int profiles) {
  std::vector<std::string> names;
  for (int i = 1; i <= profiles; ++i) names.push_back("s" + std::to_string(i));
  return names;
}

std::vector<SoakItem> write_campaign(const std::string& dir, const CampaignSpec& spec, Rng& rng) {
  std::vector<SoakItem> items;
  std::string lines;
  for (int i = 1; i <= spec.items; ++i) {
    SoakItem item{"item-" + std::to_string(i), pick_fault(rng),
                  static_cast<int>(rng.between(100, 400))};
    nlohmann::json line = {{"id", item.key},
                           {"url", spec.base_url + "/item?key=" + item.key},
                           {"step_ms", item.step_ms}};
    if (!item.fault.empty()) line["fault"] = item.fault;
    if (item.fault == "hang") line["hang_url"] = spec.base_url + "/hang";
    lines += line.dump() + "\n";
    items.push_back(std::move(item));
  }
  write_file(dir + "/items.jsonl", lines);
  std::string names;
  for (const auto& name : profile_names(spec.profiles)) {
    names += (names.empty() ? "\"" : ", \"") + name + "\"";
  }
  std::string source = kCampaign;
  replace_all(source, "PROFILES", names);
  replace_all(source, "HOME", spec.base_url + "/page1");
  replace_all(source, "INTERVAL", std::to_string(kHealthIntervalMs));
  replace_all(source, "TIMEOUT", std::to_string(kHealthTimeoutMs));
  write_file(dir + "/campaign.lua", source);
  return items;
}

}  // namespace belay::soak
