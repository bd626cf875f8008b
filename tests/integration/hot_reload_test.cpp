// Hot reload end to end: `belay run` on a campaign of slow items while the
// test edits the campaign file both ways editors save (truncate+write in
// place, and write a temp file then rename() it over), and events.jsonl as
// the record (DESIGN.md "Hot reload and sandbox").

#include "support/belay_process.hpp"
#include "support/chromium.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The campaign, always with the same line layout so that an error's line is
// known: line 9 is the return statement of run.
constexpr int kReturnLine = 9;
std::string campaign_source(const std::string& version, int items, int sleep_ms,
                            const std::string& top = "") {
  // Line 1 is a comment, or `top` (extra top-level code) and a comment.
  return top + (top.empty() ? "" : " ") + "-- hot reload fixture (" + version + ")\n" +  // 1
         "local items = {}\n"                                                            // 2
         "for i = 1, " +
         std::to_string(items) +
         " do items[i] = { id = string.format(\"i%02d\", i) } end\n"  // 3
         "return {\n"                                                 // 4
         "  name = \"reload\",\n"                                     // 5
         "  items = items,\n"                                         // 6
         "  run = function(page, item, ctx)\n"                        // 7
         "    belay.sleep(" +
         std::to_string(sleep_ms) +
         ")\n"  // 8
         "    return { version = \"" +
         version +
         "\" }\n"    // 9
         "  end,\n"  // 10
         "}\n";      // 11
}

// The same file with a syntax error on kReturnLine.
std::string broken_source(int items, int sleep_ms) {
  std::string source = campaign_source("v1", items, sleep_ms);
  const std::string good = "return { version = \"v1\" }";
  source.replace(source.find(good), good.size(), "return { version = = \"v1\" }");
  return source;
}

// Save style 1: truncate and write in place (same inode).
void write_in_place(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
}

// Save style 2: write a temp file beside it and rename() it over (new inode).
void write_by_rename(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp-save";
  {
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0) << temp;
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  ASSERT_EQ(std::rename(temp.c_str(), path.c_str()), 0) << temp;
}

std::string name_of(const json& e) { return e.value("event", ""); }

bool is_reload(const json& e) { return name_of(e) == "reload"; }

std::string describe_events(const std::vector<json>& events) {
  std::string out;
  for (const auto& e : events) {
    out += name_of(e);
    if (e["item"].is_string()) out += ":" + e["item"].get<std::string>();
    if (name_of(e) == "item_ok") out += "=" + e["params"]["result"].value("version", "?");
    if (is_reload(e)) out += "(" + e.value("outcome", std::string("?")) + ")";
    out += " ";
  }
  return out;
}

class HotReload : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.file("campaign"));
    campaign_ = dir_.file("campaign/campaign.lua");
    state_ = dir_.file("state");
  }

  std::vector<std::string> run_args(bool reload = true) const {
    std::vector<std::string> args = {"run",  campaign_,  "--state",
                                     state_, "--chrome", chrome_path()};
    if (!reload) args.push_back("--no-reload");
    return args;
  }

  std::string events_path() const { return state_ + "/events.jsonl"; }

  size_t count(const std::string& event) const {
    size_t n = 0;
    for (const auto& e : read_events(events_path())) n += name_of(e) == event ? 1 : 0;
    return n;
  }

  // Waits until the n-th (1-based) reload event is logged.
  std::optional<json> wait_reload(size_t n, BelayProcess& belay,
                                  milliseconds timeout = seconds(10)) {
    auto found = wait_for_events(events_path(), is_reload, n, timeout, &belay);
    if (found.size() < n) return std::nullopt;
    return found[n - 1];
  }

  // Waits until `more` item_ok events follow the n-th reload event in the log.
  bool wait_items_after_reload(size_t n, size_t more, BelayProcess& belay) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    for (;;) {
      const bool alive = belay.running();
      size_t reloads = 0;
      size_t oks = 0;
      for (const auto& e : read_events(events_path())) {
        if (is_reload(e)) ++reloads;
        if (reloads >= n && name_of(e) == "item_ok") ++oks;
      }
      if (oks >= more) return true;
      if (!alive || std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  TempDir dir_;
  std::string campaign_;
  std::string state_;
};

struct ItemRun {
  size_t start = 0;  // position of item_start in the log
  size_t end = 0;    // position of item_ok
  std::string version;
};

TEST_F(HotReload, EditsBothWaysReachTheNextItemAndNeverTheOneInFlight) {
  constexpr int kItems = 15;
  constexpr int kSleep = 300;
  dir_.write("campaign/campaign.lua", campaign_source("v1", kItems, kSleep));
  BelayProcess belay(run_args(), dir_.path());
  ASSERT_TRUE(wait_for_event(
      events_path(), [](const json& e) { return name_of(e) == "item_ok" && e["item"] == "i02"; },
      seconds(60), &belay))
      << belay.describe();

  // (a) A syntax error written in place: the reload fails, v1 goes on.
  write_in_place(campaign_, broken_source(kItems, kSleep));
  auto fail = wait_reload(1, belay);
  ASSERT_TRUE(fail) << "no reload event after a broken edit\n"
                    << describe_events(read_events(events_path())) << belay.describe();
  EXPECT_EQ((*fail)["outcome"], "fail") << fail->dump();
  EXPECT_EQ((*fail)["params"]["file"], campaign_) << fail->dump();
  EXPECT_EQ((*fail)["params"]["line"], kReturnLine) << fail->dump();
  EXPECT_TRUE((*fail)["params"]["message"].is_string()) << fail->dump();
  ASSERT_TRUE(wait_items_after_reload(1, 2, belay)) << belay.describe();

  // (b) A valid v2 saved by rename() over the file.
  write_by_rename(campaign_, campaign_source("v2", kItems, kSleep));
  auto v2 = wait_reload(2, belay);
  ASSERT_TRUE(v2) << "no reload event after a rename-over save\n"
                  << describe_events(read_events(events_path())) << belay.describe();
  EXPECT_EQ((*v2)["outcome"], "ok") << v2->dump();
  EXPECT_EQ((*v2)["params"]["file"], campaign_) << v2->dump();
  ASSERT_TRUE(wait_items_after_reload(2, 2, belay)) << belay.describe();

  // (c) A valid v3 written in place.
  write_in_place(campaign_, campaign_source("v3", kItems, kSleep));
  auto v3 = wait_reload(3, belay);
  ASSERT_TRUE(v3) << "no reload event after an in-place save\n"
                  << describe_events(read_events(events_path())) << belay.describe();
  EXPECT_EQ((*v3)["outcome"], "ok") << v3->dump();

  belay.wait(seconds(60));
  ASSERT_FALSE(belay.timed_out()) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 0) << belay.describe();

  const auto events = read_events(events_path());
  const std::string log = describe_events(events);
  std::vector<size_t> reloads;
  std::map<std::string, ItemRun> items;
  for (size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    if (is_reload(e)) reloads.push_back(i);
    if (!e["item"].is_string()) continue;
    ItemRun& run = items[e["item"].get<std::string>()];
    if (name_of(e) == "item_start") run.start = i;
    if (name_of(e) == "item_ok") {
      run.end = i;
      run.version = e["params"]["result"].value("version", "");
    }
  }
  ASSERT_EQ(reloads.size(), 3u) << "one reload per save, no more\n" << log;
  ASSERT_EQ(items.size(), static_cast<size_t>(kItems)) << log;
  EXPECT_EQ(events[reloads[0]]["outcome"], "fail") << log;
  EXPECT_EQ(events[reloads[1]]["outcome"], "ok") << log;
  EXPECT_EQ(events[reloads[2]]["outcome"], "ok") << log;

  // Which version each item must have run: the one live when it started.
  size_t after_fail = 0;
  size_t on_v2 = 0;
  size_t on_v3 = 0;
  for (const auto& [key, run] : items) {
    SCOPED_TRACE(key + "\n" + log);
    ASSERT_GT(run.end, run.start) << "item not finished";
    if (run.start < reloads[1]) {
      EXPECT_EQ(run.version, "v1");
      if (run.start > reloads[0]) ++after_fail;
    } else if (run.start < reloads[2]) {
      EXPECT_EQ(run.version, "v2");
      ++on_v2;
    } else {
      EXPECT_EQ(run.version, "v3");
      ++on_v3;
    }
    // The item in flight at each good reload finishes on the old version.
    if (run.start < reloads[1] && reloads[1] < run.end) {
      EXPECT_EQ(run.version, "v1");
    }
    if (run.start < reloads[2] && reloads[2] < run.end) {
      EXPECT_EQ(run.version, "v2");
    }
  }
  EXPECT_GE(after_fail, 1u) << "no item ran between the failed and the good reload\n" << log;
  EXPECT_GE(on_v2, 1u) << log;
  EXPECT_GE(on_v3, 1u) << log;
  // Each good reload did land while an item was in flight (sequential runner:
  // the next item starts in the same loop turn the previous one ends).
  for (size_t r : {reloads[1], reloads[2]}) {
    bool in_flight = false;
    for (const auto& [key, run] : items) in_flight = in_flight || (run.start < r && r < run.end);
    EXPECT_TRUE(in_flight) << "reload at " << r << " hit no item in flight\n" << log;
  }
}

// Edits whose top level fails: a runtime error (on a known line, with the
// campaign named by a relative path) and an endless loop (stopped by the
// top-level budget). Each is a failed reload; the run goes on with v1.
TEST_F(HotReload, FailingTopLevelInAnEditKeepsTheOldVersion) {
  constexpr int kItems = 8;
  constexpr int kSleep = 300;
  dir_.write("campaign/campaign.lua", campaign_source("v1", kItems, kSleep));
  std::vector<std::string> args = run_args();
  args[1] = "campaign.lua";  // relative to the cwd
  BelayOptions options;
  options.cwd = dir_.file("campaign");
  BelayProcess belay(args, dir_.path(), options);
  ASSERT_TRUE(wait_for_event(
      events_path(), [](const json& e) { return name_of(e) == "item_ok" && e["item"] == "i01"; },
      seconds(60), &belay))
      << belay.describe();

  write_in_place(campaign_, campaign_source("v2", kItems, kSleep, "error(\"broken on purpose\")"));
  auto raised = wait_reload(1, belay);
  ASSERT_TRUE(raised) << belay.describe();
  EXPECT_EQ((*raised)["outcome"], "fail") << raised->dump();
  EXPECT_EQ((*raised)["params"]["file"], campaign_) << "not the absolute path: " << raised->dump();
  EXPECT_EQ((*raised)["params"]["line"], 1) << raised->dump();
  EXPECT_THAT((*raised)["params"].value("message", ""), ::testing::HasSubstr("broken on purpose"))
      << raised->dump();

  std::this_thread::sleep_for(milliseconds(200));
  const auto written = std::chrono::steady_clock::now();
  write_by_rename(campaign_, campaign_source("v3", kItems, kSleep, "while true do end"));
  auto runaway = wait_reload(2, belay, seconds(15));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - written).count();
  ASSERT_TRUE(runaway) << belay.describe();
  EXPECT_EQ((*runaway)["outcome"], "fail") << runaway->dump();
  EXPECT_EQ((*runaway)["params"]["file"], campaign_) << runaway->dump();
  EXPECT_THAT((*runaway)["params"].value("message", ""), ::testing::HasSubstr("quota"))
      << runaway->dump();
  EXPECT_LT(took, 5.0) << "the top-level budget took too long";

  belay.wait(seconds(60));
  ASSERT_FALSE(belay.timed_out()) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 0) << belay.describe();
  const auto events = read_events(events_path());
  size_t oks = 0;
  for (const auto& e : events) {
    if (name_of(e) != "item_ok") continue;
    ++oks;
    EXPECT_EQ(e["params"]["result"]["version"], "v1") << describe_events(events);
  }
  EXPECT_EQ(oks, static_cast<size_t>(kItems)) << describe_events(events);
}

TEST_F(HotReload, NoReloadIgnoresEdits) {
  constexpr int kItems = 6;
  constexpr int kSleep = 300;
  dir_.write("campaign/campaign.lua", campaign_source("v1", kItems, kSleep));
  BelayProcess belay(run_args(/*reload=*/false), dir_.path());
  ASSERT_TRUE(wait_for_event(
      events_path(), [](const json& e) { return name_of(e) == "item_ok" && e["item"] == "i01"; },
      seconds(60), &belay))
      << belay.describe();
  write_by_rename(campaign_, campaign_source("v2", kItems, kSleep));
  std::this_thread::sleep_for(milliseconds(100));
  write_in_place(campaign_, campaign_source("v3", kItems, kSleep));
  belay.wait(seconds(60));
  ASSERT_FALSE(belay.timed_out()) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 0) << belay.describe();
  const auto events = read_events(events_path());
  for (const auto& e : events) {
    EXPECT_FALSE(is_reload(e)) << describe_events(events);
    if (name_of(e) == "item_ok") {
      EXPECT_EQ(e["params"]["result"]["version"], "v1") << describe_events(events);
    }
  }
}

// A reload ends the old version's page:on handlers, even those of an item
// still in flight: after the reload the page's console messages reach no
// handler (one already running may finish).
TEST_F(HotReload, AReloadEndsTheOldVersionsHandlers) {
  const auto source = [](const std::string& version) {
    return "-- " + version + R"LUA(
return {
  name = "handlers",
  items = { { id = "long" } },
  run = function(page, item, ctx)
    page:on("console", function(m) ctx:event("heard", { text = m.text }) end)
    for i = 1, 40 do
      page:evaluate("console.log('tick " .. i .. "')")
      belay.sleep(100)
    end
    return { ok = true }
  end,
}
)LUA";
  };
  dir_.write("campaign/campaign.lua", source("v1"));
  BelayProcess belay(run_args(), dir_.path());
  ASSERT_TRUE(wait_for_event(
      events_path(), [](const json& e) { return name_of(e) == "heard"; }, seconds(60), &belay))
      << belay.describe();
  write_by_rename(campaign_, source("v2"));
  ASSERT_TRUE(wait_reload(1, belay)) << belay.describe();
  belay.wait(seconds(60));
  ASSERT_FALSE(belay.timed_out()) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 0) << belay.describe();
  size_t before = 0;
  size_t after = 0;
  bool reloaded = false;
  for (const auto& e : read_events(events_path())) {
    if (is_reload(e)) reloaded = true;
    if (name_of(e) == "heard") ++(reloaded ? after : before);
  }
  EXPECT_GE(before, 1u);
  EXPECT_LE(after, 1u) << "handlers of the old version still ran after the reload";
}

// Not a performance assertion: prints how long a save takes to go live
// (from the write to the reload event's ts) for the closing note.
// BELAY_RELOAD_EDITS=50 gives the closing note's figure; CI runs 10.
TEST_F(HotReload, WriteToLiveLatency) {
  const char* edits_env = std::getenv("BELAY_RELOAD_EDITS");
  const int kEdits = edits_env != nullptr ? std::max(1, std::atoi(edits_env)) : 10;
  constexpr int kItems = 1000;
  constexpr int kSleep = 100;
  dir_.write("campaign/campaign.lua", campaign_source("L0", kItems, kSleep));
  BelayProcess belay(run_args(), dir_.path());
  ASSERT_TRUE(wait_for_event(
      events_path(), [](const json& e) { return name_of(e) == "item_ok"; }, seconds(60), &belay))
      << belay.describe();

  std::vector<double> in_place;
  std::vector<double> renamed;
  std::vector<double> all;
  for (int i = 1; i <= kEdits; ++i) {
    const std::string source = campaign_source("L" + std::to_string(i), kItems, kSleep);
    const bool by_rename = i % 2 == 0;
    const int64_t written_ms = system_now_ms();
    if (by_rename) {
      write_by_rename(campaign_, source);
    } else {
      write_in_place(campaign_, source);
    }
    auto reload = wait_reload(static_cast<size_t>(i), belay);
    ASSERT_TRUE(reload) << "edit " << i << " was not reloaded\n" << belay.describe();
    ASSERT_EQ((*reload)["outcome"], "ok") << reload->dump();
    const auto ts = parse_iso8601_ms((*reload)["ts"].get<std::string>());
    ASSERT_TRUE(ts);
    const double latency = static_cast<double>(*ts - written_ms);
    all.push_back(latency);
    (by_rename ? renamed : in_place).push_back(latency);
    // Separate saves, as a person would, at uneven intervals so that the
    // saves do not lock into phase with the watcher's 250 ms poll.
    std::this_thread::sleep_for(milliseconds(150 + (i * 73) % 250));
  }
  belay.send_signal(SIGTERM);
  EXPECT_TRUE(belay.wait_for_exit(seconds(15))) << belay.describe();
  EXPECT_EQ(count("reload"), static_cast<size_t>(kEdits)) << "one reload per save";

  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  auto max = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  std::printf(
      "[ latency  ] write-to-live over %d edits: median %.0f ms, max %.0f ms "
      "(in place: median %.0f, max %.0f; rename: median %.0f, max %.0f)\n",
      kEdits, median(all), max(all), median(in_place), max(in_place), median(renamed),
      max(renamed));
  std::string each;
  for (double v : all) each += " " + std::to_string(static_cast<int>(v));
  std::printf("[ latency  ] each (ms):%s\n", each.c_str());
  std::fflush(stdout);
}

}  // namespace
}  // namespace belay::test
