#include "campaign/state_cleanup.hpp"

#include "store/store.hpp"

#include <cstdio>
#include <filesystem>
#include <set>

namespace belay::campaign {
namespace {

constexpr uint64_t kGraceMs = 3000;

// An emergency stops items mid-flight: put the running items of the
// profiles whose browsers were killed back to pending, so no run loses
// them. A state without a database has no items yet.
int64_t requeue_items(const std::string& state_dir, const std::set<std::string>& profiles) {
  if (!std::filesystem::exists(std::filesystem::path(state_dir) / "belay.db")) return 0;
  auto store = store::open_sqlite_store(state_dir);
  if (!store) {
    std::fprintf(stderr, "belay: cannot requeue items: %s\n", store.error().message.c_str());
    return 0;
  }
  auto items = store.value()->items();
  if (!items) return 0;
  int64_t requeued = 0;
  for (const auto& item : items.value()) {
    if (item.status != store::ItemStatus::running) continue;
    if (!profiles.empty() && profiles.count(item.profile) == 0) continue;
    if (!store.value()->mark_pending(item.key, item.attempts)) ++requeued;
  }
  return requeued;
}

}  // namespace

CleanupReport clean_state(const std::string& state_dir, bool emergency) {
  CleanupReport report;
  report.killed =
      emergency ? chrome::find_marked_processes(state_dir) : chrome::find_orphans(state_dir);
  if (emergency) {
    // Before the browsers go: a live host must not finish (or fail) the
    // item in the time they take to exit and so escape the requeue.
    std::set<std::string> profiles;
    for (const auto& p : report.killed) profiles.insert(p.marker.profile);
    // With no browser found, every running item is stale all the same.
    report.requeued = requeue_items(state_dir, profiles);
  }
  if (!report.killed.empty()) report.survived = chrome::end_processes(report.killed, kGraceMs);
  return report;
}

void log_cleanup(EventLog& events, const CleanupReport& report, bool emergency, bool always) {
  if (!always && report.killed.empty() && report.requeued == 0) return;
  nlohmann::json killed = nlohmann::json::array();
  for (const auto& p : report.killed) {
    killed.push_back({{"pid", p.pid},
                      {"profile", p.marker.profile},
                      {"host_pid", p.marker.host_pid},
                      {"host_alive", p.host_alive}});
  }
  events.write(campaign::Event{"cleanup",
                               "",
                               "",
                               "",
                               {{"mode", emergency ? "emergency" : "orphans"},
                                {"killed", killed},
                                {"survived", report.survived},
                                {"requeued", report.requeued}},
                               report.survived.empty() ? "ok" : "fail",
                               {}});
}

std::string describe(const CleanupReport& report) {
  std::string out;
  std::set<pid_t> survived(report.survived.begin(), report.survived.end());
  for (const auto& p : report.killed) {
    out += (survived.count(p.pid) != 0 ? "still alive " : "killed ") + std::to_string(p.pid) +
           " (profile " + (p.marker.profile.empty() ? std::string("?") : p.marker.profile) +
           ", host " + std::to_string(p.marker.host_pid) + (p.host_alive ? " running" : " gone") +
           ")\n";
  }
  if (report.requeued > 0) {
    out += std::to_string(report.requeued) + " running item(s) back to pending\n";
  }
  return out;
}

}  // namespace belay::campaign
