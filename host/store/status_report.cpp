#include "store/status_report.hpp"

#include "store/results_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

namespace belay::store {
namespace {

std::string campaign_table(const std::optional<CampaignRecord>& campaign, const Counts& counts) {
  if (!campaign) return "no campaign bound to this state yet\n";
  const auto n = [](int64_t v) { return std::to_string(v); };
  return format_table(
      {"CAMPAIGN", "ITEMS", "DONE", "FAILED", "PENDING", "RUNNING", "SKIPPED", "LAST INDEX",
       "CREATED", "UPDATED"},
      {{campaign->name, n(counts.total()), n(counts.done), n(counts.failed), n(counts.pending),
        n(counts.running), n(counts.skipped), n(campaign->last_index),
        iso8601_utc(campaign->created_at_ms), iso8601_utc(campaign->updated_at_ms)}});
}

std::string profile_table(const std::vector<ProfileRecord>& profiles,
                          const std::vector<WorkerHealth>& health) {
  // A profile may have health and no record yet, or the other way round.
  std::map<std::string, std::pair<ProfileRecord, WorkerHealth>> joined;
  for (const auto& p : profiles) joined[p.name].first = p;
  for (const auto& h : health) joined[h.profile].second = h;
  if (joined.empty()) return "no profiles yet\n";
  const auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, entry] : joined) {
    const auto& [p, h] = entry;
    rows.push_back({name, std::to_string(p.error_streak), iso8601_utc(p.paused_until_ms),
                    std::to_string(p.restarts), p.fatal ? "yes" : "no", or_dash(h.status),
                    iso8601_utc(h.last_heartbeat_ms), or_dash(h.current_item),
                    or_dash(h.last_error)});
  }
  return format_table({"PROFILE", "ERROR STREAK", "PAUSED UNTIL", "RESTARTS", "FATAL", "HEALTH",
                       "LAST HEARTBEAT", "CURRENT ITEM", "LAST ERROR"},
                      rows);
}

}  // namespace

std::string iso8601_utc(int64_t ms) {
  if (ms == 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  const auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      line.append(widths[i] - row[i].size(), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
  return out;
}

Result<std::string> format_status(Store& store) {
  auto campaign = store.campaign();
  if (!campaign) return campaign.error();
  auto counts = store.counts();
  if (!counts) return counts.error();
  auto profiles = store.profiles();
  if (!profiles) return profiles.error();
  auto health = store.health();
  if (!health) return health.error();
  auto failures = format_failures(store);
  if (!failures) return failures.error();
  return "state " + store.path() + "\n\n" + campaign_table(campaign.value(), counts.value()) +
         "\n" + profile_table(profiles.value(), health.value()) +
         (failures.value().empty() ? "" : "\n" + failures.value());
}

}  // namespace belay::store
