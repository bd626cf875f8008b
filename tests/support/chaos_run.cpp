#include "support/chaos_run.hpp"

#include "chrome/orphans.hpp"
#include "chrome/proc_table.hpp"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace belay::test {

using nlohmann::json;

ChaosRun::ChaosRun() : state_(dir_.file("state")) {
  std::filesystem::create_directories(dir_.file("campaign"));
}

std::string ChaosRun::write_campaign(const std::string& source, int count) {
  std::string items;
  for (int i = 1; i <= count; ++i) {
    const std::string key = "item-" + std::to_string(i);
    items += json{{"id", key}, {"url", server_.url("/item?key=" + key)}}.dump() + "\n";
  }
  dir_.write("campaign/items.jsonl", items);
  return dir_.write("campaign/campaign.lua", source);
}

std::vector<std::string> ChaosRun::run_args(const std::string& campaign,
                                            std::vector<std::string> extra) const {
  std::vector<std::string> args = {"run", campaign, "--state", state_, "--no-reload"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<pid_t> ChaosRun::launched_pids(const std::string& profile) const {
  std::vector<pid_t> pids;
  for (const auto& e : events()) {
    if (e.value("event", "") != "browser_launch" || e.value("outcome", "") != "ok") continue;
    if (!profile.empty() && e.value("profile", "") != profile) continue;
    pids.push_back(e["params"].value("pid", 0));
  }
  return pids;
}

std::set<pid_t> ChaosRun::kill_each_launch(const std::string& profile, BelayProcess& process,
                                           std::chrono::milliseconds timeout) const {
  std::set<pid_t> killed;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process.running() && std::chrono::steady_clock::now() < deadline) {
    for (pid_t pid : launched_pids(profile)) {
      if (killed.insert(pid).second) ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return killed;
}

pid_t ChaosRun::wait_for_launch(size_t n, std::chrono::milliseconds timeout, BelayProcess* process,
                                const std::string& profile) {
  auto found = wait_for_events(
      events_path(),
      [&](const json& e) {
        return e.value("event", "") == "browser_launch" && e.value("outcome", "") == "ok" &&
               (profile.empty() || e.value("profile", "") == profile);
      },
      n, timeout, process);
  if (found.size() < n) return 0;
  return found[n - 1]["params"].value("pid", 0);
}

size_t ChaosRun::count(const std::string& event) const { return of_event(events(), event).size(); }

std::vector<pid_t> ChaosRun::left_behind(std::chrono::milliseconds wait,
                                         const std::vector<pid_t>& except) const {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    std::vector<pid_t> left;
    for (const auto& p : chrome::find_marked_processes(state_)) left.push_back(p.pid);
    for (pid_t pid : processes_mentioning(state_)) left.push_back(pid);
    std::sort(left.begin(), left.end());
    left.erase(std::unique(left.begin(), left.end()), left.end());
    auto excepted = [&](pid_t pid) {
      auto info = chrome::read_proc(pid);
      for (pid_t e : except) {
        if (pid == e || (info && info->pgid == e)) return true;
      }
      return false;
    };
    left.erase(std::remove_if(left.begin(), left.end(), excepted), left.end());
    if (left.empty() || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<json> of_event(const std::vector<json>& events, const std::string& name) {
  std::vector<json> out;
  for (const auto& e : events) {
    if (e.value("event", "") == name) out.push_back(e);
  }
  return out;
}

std::string event_names(const std::vector<json>& events) {
  std::string out;
  for (const auto& e : events) out += (out.empty() ? "" : " ") + e.value("event", "");
  return out;
}

}  // namespace belay::test
