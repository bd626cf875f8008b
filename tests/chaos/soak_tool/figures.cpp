#include "figures.hpp"

#include <algorithm>

#include "event_tail.hpp"
#include "store/store.hpp"

namespace belay::soak {
namespace {

using nlohmann::json;

constexpr size_t kProblemsShown = 20;
constexpr size_t kKeysShown = 10;

std::string join(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [name, n] : counts) {
    out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
  }
  return out.empty() ? "none" : out;
}

int sum(const std::map<std::string, int>& counts) {
  int n = 0;
  for (const auto& entry : counts) n += entry.second;
  return n;
}

// A string parameter of an event, "?" when it has none.
std::string param(const json& e, const char* name) {
  const auto params = e.find("params");
  if (params == e.end() || !params->is_object()) return "?";
  const std::string value = text(*params, name);
  return value.empty() ? "?" : value;
}

// Per item, from the events: item_ok events, tries begun (an item_start, a
// retry, a ladder step that went on to try the item again: an upper bound,
// as a host killed during a retry's wait never began that try), and the
// ladder steps that load the item's page again (reload, back), which the
// fixture counts although no try began.
struct ItemEvents {
  int oks = 0;
  int tries = 0;
  int refetches = 0;
};

// Recoveries by layer, and what happened to each item, from the events.
void count_events(const std::vector<json>& events, PhaseFigures& f,
                  std::map<std::string, ItemEvents>& per_item) {
  for (const auto& e : events) {
    const std::string name = text(e, "event");
    const std::string outcome = text(e, "outcome");
    const std::string item = text(e, "item");
    if (name == "item_ok") {
      ++per_item[item].oks;
    } else if (name == "item_start") {
      ++per_item[item].tries;
    } else if (name == "retry") {
      ++f.retries[param(e, "kind")];
      ++per_item[item].tries;
    } else if (name == "recover") {
      const std::string step = param(e, "name");
      ++(outcome == "ok" ? f.recovered : f.ladder_failed)[step];
      const auto params = e.find("params");
      if (params == e.end() || !params->is_object() || !params->contains("step_error")) {
        ++per_item[item].tries;
      }
      if (step == "reload" || step == "back") ++per_item[item].refetches;
    } else if (name == "restarting") {
      ++(param(e, "scope") == "page" ? f.page_restarts : f.browser_restarts)[param(e, "reason")];
    } else if (name == "heartbeat_missed") {
      ++f.heartbeat_missed[param(e, "target")];
    } else if (name == "browser_exit") {
      ++f.browser_exits;
    } else if (name == "browser_launch") {
      ++(outcome == "ok" ? f.launches : f.launch_failures);
    } else if (name == "soft_restart") {
      ++f.soft_restarts;
    } else if (name == "fatal") {
      ++f.fatals;
    } else if (name == "pause") {
      ++f.pauses;
    } else if (name == "cleanup") {
      const auto params = e.find("params");
      if (params == e.end() || !params->is_object()) continue;
      const auto killed = params->find("killed");
      if (killed != params->end() && killed->is_array()) {
        f.orphans_reaped += static_cast<int>(killed->size());
      }
    }
  }
}

// Whether a done item's result is what its page showed: its own key, and
// a count the fixture really reached.
bool result_matches(const json& result, const std::string& key, int hits) {
  if (!result.is_object() || text(result, "key") != key) return false;
  if (!result.contains("count") || !result["count"].is_number()) return false;
  const double count = result["count"].get<double>();
  return count >= 1 && count <= hits;
}

void check_item(const SoakItem& item, const store::ItemRecord* row, int hits,
                const ItemEvents& seen, PhaseFigures& f) {
  const std::string& key = item.key;
  if (row == nullptr) {
    f.lost_keys.push_back(key + " (not in the store)");
  } else if (row->status == store::ItemStatus::done) {
    ++f.done;
    if (!result_matches(row->result, key, hits)) {
      ++f.wrong_results;
      f.problems.push_back(key + " wrong result " + row->result.dump() + " (fixture count " +
                           std::to_string(hits) + ")");
    }
    if (hits == 0) {
      ++f.done_unexecuted;
      f.problems.push_back(key + " done, but the fixture never served it");
    }
  } else if (row->status == store::ItemStatus::failed) {
    ++f.failed;
    f.problems.push_back(key + " failed after " + std::to_string(row->attempts) +
                         " tries: " + row->error.dump());
  } else {
    f.lost_keys.push_back(key + " (" + std::string(store::status_name(row->status)) + ")");
  }
  if (seen.oks > 1) {
    ++f.done_twice;
    f.problems.push_back(key + " has " + std::to_string(seen.oks) + " item_ok events");
  }
  if (hits > 1) {
    ++f.ran_more_than_once;
    ++(item.fault.empty() ? f.dup_retried : f.dup_item_fault);
  }
  // The store's attempts count tries over runs, but a host killed mid-item
  // loses the count of that run's later tries: the events keep them.
  const int tries = std::max(row ? row->attempts : 0, seen.tries);
  if (hits > tries + seen.refetches) {
    f.unexplained += hits - tries - seen.refetches;
    f.problems.push_back(key + " executed " + std::to_string(hits) + " times, tried " +
                         std::to_string(tries) + " (+" + std::to_string(seen.refetches) +
                         " reload/back steps)");
  }
}

}  // namespace

PhaseFigures collect_figures(PhaseLog log, const std::vector<SoakItem>& items,
                             const std::string& state_dir, const std::vector<json>& events,
                             int bad_event_lines, const std::map<std::string, int>& hits) {
  PhaseFigures f;
  f.log = std::move(log);
  f.total = static_cast<int>(items.size());
  f.bad_event_lines = bad_event_lines;
  std::map<std::string, store::ItemRecord> rows;
  auto store = store::open_sqlite_store(state_dir, {true});
  if (!store) {
    f.problems.push_back("store: " + store.error().message);
  } else if (auto all = store.value()->items(); !all) {
    f.problems.push_back("store: " + all.error().message);
  } else {
    for (auto& row : all.value()) rows.emplace(row.key, std::move(row));
  }
  std::map<std::string, ItemEvents> per_item;
  count_events(events, f, per_item);
  std::vector<int> executions;
  for (const auto& item : items) {
    if (!item.fault.empty()) ++f.item_faults[item.fault];
    const auto hit = hits.find(item.key);
    const int n = hit == hits.end() ? 0 : hit->second;
    executions.push_back(n);
    const auto row = rows.find(item.key);
    check_item(item, row == rows.end() ? nullptr : &row->second, n, per_item[item.key], f);
  }
  if (!executions.empty()) {
    std::sort(executions.begin(), executions.end());
    f.exec_min = executions.front();
    f.exec_median = executions[executions.size() / 2];
    f.exec_max = executions.back();
  }
  for (const auto& orphan : f.log.orphans) f.problems.push_back("left running: " + orphan);
  if (bad_event_lines > 0) {
    f.problems.push_back(std::to_string(bad_event_lines) + " lines of events.jsonl are not JSON");
  }
  f.lost = static_cast<int>(f.lost_keys.size());
  std::vector<std::string> first;
  if (f.log.timed_out)
    first.push_back("gave up: --seconds ran out (or a signal) before the run ended");
  if (f.lost > 0) {
    std::string keys;
    for (size_t i = 0; i < f.lost_keys.size() && i < kKeysShown; ++i) {
      keys += (i == 0 ? "" : ", ") + f.lost_keys[i];
    }
    if (f.lost_keys.size() > kKeysShown) keys += ", ...";
    first.push_back(std::to_string(f.lost) + " items lost: " + keys);
  }
  f.problems.insert(f.problems.begin(), first.begin(), first.end());
  return f;
}

bool PhaseFigures::ok() const {
  return !log.timed_out && lost == 0 && failed == 0 && wrong_results == 0 && done_twice == 0 &&
         done_unexecuted == 0 && unexplained == 0 && log.orphans.empty() && bad_event_lines == 0 &&
         total > 0 && done == total;
}

json PhaseFigures::to_json() const {
  return {
      {"mode", log.mode},
      {"transport", log.transport},
      {"ok", ok()},
      {"items", {{"total", total}, {"done", done}, {"failed", failed}, {"lost", lost}}},
      {"checks",
       {{"wrong_results", wrong_results},
        {"done_twice", done_twice},
        {"done_unexecuted", done_unexecuted}}},
      {"executions",
       {{"min", exec_min},
        {"median", exec_median},
        {"max", exec_max},
        {"ran_more_than_once", ran_more_than_once},
        {"of_which_own_fault", dup_item_fault},
        {"of_which_retried_after_chaos", dup_retried},
        {"unexplained", unexplained}}},
      {"item_faults", item_faults},
      {"recoveries",
       {{"retry", retries},
        {"ladder_recovered", recovered},
        {"ladder_failed_tries", ladder_failed},
        {"page_restarts", page_restarts},
        {"browser_restarts", browser_restarts},
        {"heartbeat_missed", heartbeat_missed},
        {"browser_exits", browser_exits},
        {"launches", launches},
        {"launch_failures", launch_failures},
        {"soft_restarts", soft_restarts},
        {"pauses", pauses},
        {"fatal", fatals},
        {"orphans_reaped_at_restart", orphans_reaped}}},
      {"chaos",
       {{"done", log.chaos_done},
        {"skipped", log.chaos_skipped},
        {"held_resumed", log.held_resumed},
        {"held_ended_by_belay", log.held_ended}}},
      {"hosts",
       {{"runs", log.host_exits.size()}, {"killed", log.host_kills}, {"exits", log.host_exits}}},
      {"orphans_left", log.orphans},
      {"timed_out", log.timed_out},
      {"seconds", log.seconds},
      {"items_per_min", log.seconds > 0 ? done * 60.0 / log.seconds : 0.0},
      {"lost_keys", lost_keys},
      {"problems", problems},
  };
}

void PhaseFigures::print(std::FILE* out) const {
  std::string exits;
  for (const auto& e : log.host_exits) exits += (exits.empty() ? "" : ", ") + e;
  std::fprintf(out, "== %s (%s) ==\n", log.mode.c_str(), log.transport.c_str());
  std::fprintf(out, "items        %d: %d done, %d failed, %d lost\n", total, done, failed, lost);
  std::fprintf(out, "checks       %d wrong results, %d done twice, %d done unexecuted\n",
               wrong_results, done_twice, done_unexecuted);
  std::fprintf(out,
               "executions   per item min %d, median %d, max %d; %d ran more than once "
               "(%d own fault, %d retried after chaos); %d unexplained\n",
               exec_min, exec_median, exec_max, ran_more_than_once, dup_item_fault, dup_retried,
               unexplained);
  std::fprintf(out, "recoveries   retry %d (%s)\n", sum(retries), join(retries).c_str());
  std::fprintf(out, "             ladder recovered %d (%s); failed tries %d (%s)\n", sum(recovered),
               join(recovered).c_str(), sum(ladder_failed), join(ladder_failed).c_str());
  std::fprintf(out, "             page restarts %d (%s)\n", sum(page_restarts),
               join(page_restarts).c_str());
  std::fprintf(out,
               "             browser restarts %d (%s); browser_exit %d; "
               "launches %d ok, %d failed\n",
               sum(browser_restarts), join(browser_restarts).c_str(), browser_exits, launches,
               launch_failures);
  std::fprintf(out,
               "             heartbeat missed %d (%s); soft restarts %d; "
               "pauses %d; fatal %d\n",
               sum(heartbeat_missed), join(heartbeat_missed).c_str(), soft_restarts, pauses,
               fatals);
  std::fprintf(out, "chaos        %d (%s); skipped, no live target: %s\n", sum(log.chaos_done),
               join(log.chaos_done).c_str(), join(log.chaos_skipped).c_str());
  if (log.held_resumed + log.held_ended > 0) {
    std::fprintf(out,
                 "             stopped processes: %d ended by belay, %d "
                 "resumed by the soak\n",
                 log.held_ended, log.held_resumed);
  }
  std::fprintf(out, "item faults  %s\n", join(item_faults).c_str());
  std::fprintf(out,
               "hosts        %zu runs, %d killed by the soak (%s); orphans "
               "reaped at restart %d\n",
               log.host_exits.size(), log.host_kills, exits.c_str(), orphans_reaped);
  std::fprintf(out, "orphans      %zu left\n", log.orphans.size());
  std::fprintf(out, "time         %.1f s, %.1f items/min\n", log.seconds,
               log.seconds > 0 ? done * 60.0 / log.seconds : 0.0);
  std::fprintf(out, "verdict      %s\n", ok() ? "PASS" : "FAIL");
  for (size_t i = 0; i < problems.size() && i < kProblemsShown; ++i) {
    std::fprintf(out, "  ! %s\n", problems[i].c_str());
  }
  if (problems.size() > kProblemsShown) {
    std::fprintf(out, "  ! ... and %zu more (see --json)\n", problems.size() - kProblemsShown);
  }
}

}  // namespace belay::soak
