// The supervisor against real failures of a real Chromium, driven through
// the belay binary: browsers SIGKILLed and SIGSTOPped mid-run by the PID
// belay reported, a profile whose browser dies on every launch, a crashed
// renderer, and the memory cap of the soft restart. After each test no
// process belay launched for the state is left.

#include "store/store.hpp"
#include "support/chaos_run.hpp"
#include "support/chromium.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// One profile, quick recovery: the ladder's steps 100 ms apart, the
// supervisor's delay 200 ms, a heartbeat every second.
const char* kCampaign = R"LUA(return {
  name = "chaos",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { from = "standard", backoff_ms = 100 },
  supervisor = { max_restarts = 20, period_ms = 600000, delay_ms = 200 },
  health = { interval_ms = 1000, timeout_ms = 1000 },
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { n = tonumber(page:text("#count")), pid = ctx.browser:pid() }
  end,
}
)LUA";

class Supervisor : public ::testing::Test {
 protected:
  void TearDown() override {
    for (pid_t pid : run_.left_behind(seconds(10))) {
      ADD_FAILURE() << "left alive: " << pid << " " << cmdline_of(pid);
    }
  }

  size_t done_items() {
    auto store = store::open_sqlite_store(run_.state(), {true});
    if (!store) {
      ADD_FAILURE() << store.error().message;
      return 0;
    }
    auto counts = store.value()->counts();
    return counts ? static_cast<size_t>(counts.value().done) : 0;
  }

  int stored_restarts(const std::string& profile) {
    auto store = store::open_sqlite_store(run_.state(), {true});
    if (!store) return -1;
    auto record = store.value()->profile(profile);
    return record ? record.value().restarts : -1;
  }

  ChaosRun run_;
};

TEST_F(Supervisor, BrowserSigkilledFiveTimesDuringSixtyItemsLosesNothing) {
  const std::string campaign = run_.write_campaign(kCampaign, 60);
  BelayProcess belay(run_.run_args(campaign), run_.dir().path());
  std::vector<pid_t> killed;
  for (size_t k = 1; k <= 5; ++k) {
    const pid_t pid = run_.wait_for_launch(k, seconds(60), &belay);
    ASSERT_GT(pid, 0) << "launch " << k << ": " << belay.describe();
    // Let the new browser finish a few items, then kill it mid-run.
    wait_for_events(
        run_.events_path(), [](const json& e) { return e.value("event", "") == "item_ok"; }, 8 * k,
        seconds(60), &belay);
    ASSERT_TRUE(belay.running()) << "the run ended before kill " << k << ": " << belay.describe();
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    killed.push_back(pid);
  }
  ASSERT_EQ(belay.wait(seconds(120)), 0) << belay.describe();
  const auto events = run_.events();
  EXPECT_GE(of_event(events, "browser_exit").size(), 5u) << event_names(events);
  size_t browser_restarts = 0;
  for (const auto& e : of_event(events, "restarting")) {
    if (e["params"].value("scope", "") == "browser") ++browser_restarts;
  }
  EXPECT_GE(browser_restarts, 5u) << event_names(events);
  EXPECT_EQ(of_event(events, "item_ok").size(), 60u);
  EXPECT_TRUE(of_event(events, "item_failed").empty()) << event_names(events);
  EXPECT_EQ(done_items(), 60u);
  EXPECT_GE(stored_restarts("p1"), 5);
  // Every item ran at least once and none more than twice (a kill
  // interrupts at most the item in flight).
  for (int i = 1; i <= 60; ++i) {
    const int hits = run_.server().hits("item-" + std::to_string(i));
    EXPECT_GE(hits, 1) << i;
    EXPECT_LE(hits, 3) << i;
  }
  for (pid_t pid : killed) EXPECT_TRUE(group_gone(pid)) << pid;
}

TEST_F(Supervisor, SigstoppedBrowserMissesItsHeartbeatAndIsReplaced) {
  const std::string campaign = run_.write_campaign(kCampaign, 20);
  BelayProcess belay(run_.run_args(campaign), run_.dir().path());
  const pid_t pid = run_.wait_for_launch(1, seconds(60), &belay);
  ASSERT_GT(pid, 0) << belay.describe();
  wait_for_event(
      run_.events_path(), [](const json& e) { return e.value("event", "") == "item_ok"; },
      seconds(60), &belay);
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const int64_t stopped_at = system_now_ms();
  auto missed = wait_for_event(
      run_.events_path(), [](const json& e) { return e.value("event", "") == "heartbeat_missed"; },
      seconds(10), &belay);
  ASSERT_TRUE(missed.has_value()) << belay.describe();
  const int64_t detected = *parse_iso8601_ms(missed->value("ts", "")) - stopped_at;
  EXPECT_LE(detected, 3000) << missed->dump();
  EXPECT_EQ((*missed)["params"]["target"], "browser");
  ASSERT_EQ(belay.wait(seconds(120)), 0) << belay.describe();
  const auto events = run_.events();
  bool restarted_as_hung = false;
  for (const auto& e : of_event(events, "restarting")) {
    restarted_as_hung = restarted_as_hung || e["params"].value("reason", "") == "hung";
  }
  EXPECT_TRUE(restarted_as_hung) << event_names(events);
  EXPECT_GE(run_.launched_pids().size(), 2u);
  EXPECT_EQ(done_items(), 20u);
  EXPECT_TRUE(group_gone(pid));
}

// A browser that dies as soon as it is up, every time: after max_restarts
// the profile is fatal and the other profile does every item.
TEST_F(Supervisor, ABrowserThatAlwaysDiesMakesItsProfileFatalWhileTheOtherFinishes) {
  // A ladder of steps that never fail on their own: each step's try waits
  // for the relaunch and dies with it, so the ladder outlasts the restarts.
  // (With standard's, a step that failed at once, like `back` without
  // history, could exhaust it one death before the fatal one: the item
  // then failed instead of going to the other profile.)
  const std::string campaign = run_.write_campaign(R"LUA(
local steps = {}
for i = 1, 12 do steps[i] = { name = "again" .. i, run = function(page, ctx) end } end
return {
  name = "intensity",
  items = "items.jsonl",
  profiles = { "doomed", "steady" },
  ladder = { backoff_ms = 100, steps = steps },
  supervisor = { max_restarts = 3, period_ms = 600000, delay_ms = 100 },
  run = function(page, item, ctx)
    page:navigate(item.url)
    -- The doomed profile never finishes an item, however slowly the test
    -- gets to kill its browser: only its going fatal ends its item.
    if ctx.profile == "doomed" then page:wait_for("#never", { timeout = 60000 }) end
    belay.sleep(100)
    return { profile = ctx.profile }
  end,
}
)LUA",
                                                   20);
  BelayProcess belay(run_.run_args(campaign), run_.dir().path());
  const std::set<pid_t> killed = run_.kill_each_launch("doomed", belay, seconds(90));
  ASSERT_EQ(belay.wait(seconds(90)), 1) << belay.describe();
  const auto events = run_.events();
  // Doomed's items go back to the queue at each death: none may fail.
  for (const auto& failed : of_event(events, "item_failed")) ADD_FAILURE() << failed.dump();
  const auto fatal = of_event(events, "fatal");
  ASSERT_EQ(fatal.size(), 1u) << event_names(events);
  EXPECT_EQ(fatal[0].value("profile", ""), "doomed");
  EXPECT_EQ(fatal[0]["params"]["scope"], "profile");
  // The first launch and one per allowed restart.
  EXPECT_EQ(killed.size(), 4u);
  EXPECT_EQ(stored_restarts("doomed"), 3);
  EXPECT_EQ(done_items(), 20u) << event_names(events);
  for (const auto& ok : of_event(events, "item_ok")) {
    EXPECT_EQ(ok["params"]["result"]["profile"], "steady") << ok.dump();
  }
}

// Page.crash kills the page's renderer only: the page is replaced in the
// same browser and the item goes on.
TEST_F(Supervisor, ACrashedRendererIsReplacedWithoutRestartingTheBrowser) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "renderer-crash",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { from = "standard", backoff_ms = 100 },
  health = { interval_ms = 1000, timeout_ms = 1000 },
  run = function(page, item, ctx)
    page:navigate(item.url)
    local pid = ctx.browser:pid()
    if ctx.saved == nil then
      ctx:checkpoint({ pid = pid })
      page:cdp("Page.crash")
    end
    return { first_pid = ctx.saved.pid, pid = pid }
  end,
}
)LUA",
                                                   1);
  const BelayRun r = run_belay(run_.run_args(campaign), run_.dir().path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = run_.events();
  const auto ok = of_event(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << event_names(events);
  EXPECT_EQ(ok[0]["params"]["result"]["pid"], ok[0]["params"]["result"]["first_pid"]);
  bool page_replaced = false;
  for (const auto& e : of_event(events, "restarting")) {
    EXPECT_EQ(e["params"]["scope"], "page") << e.dump();
    page_replaced = page_replaced || e.value("outcome", "") == "ok";
  }
  EXPECT_TRUE(page_replaced) << event_names(events);
  EXPECT_TRUE(of_event(events, "browser_exit").empty()) << event_names(events);
  EXPECT_EQ(run_.launched_pids().size(), 1u);
}

// A renderer crash is one piece of news: the page's restart. Heartbeats
// that land on the dead page before its replacement add no heartbeat_missed
// (they used to: the soak counted most renderer kills twice).
TEST_F(Supervisor, ACrashedRendererIsLoggedOnceEvenUnderFastHeartbeats) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "renderer-crash-once",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 2, base_ms = 1, jitter = 0, kinds = { "target_crashed" } },
  health = { interval_ms = 20, timeout_ms = 1000 },
  run = function(page, item, ctx)
    page:navigate(item.url)
    if ctx.saved == nil then
      ctx:checkpoint({ crashed = true })
      page:cdp("Page.crash")
    end
    belay.sleep(1000)  -- many beats, before and after the replacement
    return { attempt = ctx.attempt }
  end,
}
)LUA",
                                                   1);
  const BelayRun r = run_belay(run_.run_args(campaign), run_.dir().path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = run_.events();
  ASSERT_EQ(of_event(events, "item_ok").size(), 1u) << event_names(events);
  const auto restarts = of_event(events, "restarting");
  ASSERT_EQ(restarts.size(), 1u) << event_names(events);
  EXPECT_EQ(restarts[0]["params"]["scope"], "page");
  EXPECT_EQ(restarts[0]["params"]["reason"], "target_crashed");
  EXPECT_TRUE(of_event(events, "heartbeat_missed").empty()) << event_names(events);
}

// A retry that comes sooner than the page's replacement waits for it: it
// runs once, on the new page, instead of reviving the crashed tab (a second
// execution) that the replacement then closes under it (a third).
TEST_F(Supervisor, AnImmediateRetryAfterARendererCrashRunsOnceOnTheNewPage) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "crash-retry",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 4, base_ms = 1, jitter = 0, kinds = { "target_crashed", "target_closed" } },
  run = function(page, item, ctx)
    page:navigate(item.url)
    if ctx.attempt == 1 then page:cdp("Page.crash") end
    return { attempt = ctx.attempt, count = tonumber(page:text("#count")) }
  end,
}
)LUA",
                                                   1);
  const BelayRun r = run_belay(run_.run_args(campaign), run_.dir().path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = run_.events();
  const auto ok = of_event(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << event_names(events);
  EXPECT_EQ(ok[0]["params"]["result"]["attempt"], 2) << event_names(events);
  EXPECT_EQ(ok[0]["params"]["result"]["count"], 2) << ok[0].dump();
  EXPECT_EQ(run_.server().hits("item-1"), 2);
}

TEST_F(Supervisor, ABrowserPastTheMemoryCapIsRestartedBetweenItems) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "memory-cap",
  items = "items.jsonl",
  profiles = { "p1" },
  soft_restart = { memory_mb = 1 },
  health = { interval_ms = 200 },  -- memory is read at most once per beat
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { pid = ctx.browser:pid() }
  end,
}
)LUA",
                                                   3);
  const BelayRun r = run_belay(run_.run_args(campaign), run_.dir().path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = run_.events();
  const auto soft = of_event(events, "soft_restart");
  ASSERT_GE(soft.size(), 2u) << event_names(events);
  for (const auto& e : soft) {
    EXPECT_EQ(e["params"]["reason"], "memory") << e.dump();
    EXPECT_GE(e["params"].value("memory_mb", 0), 1) << e.dump();
  }
  // Each item ran in a browser of its own; a soft restart is not a
  // supervisor restart.
  std::set<int> pids;
  for (const auto& ok : of_event(events, "item_ok"))
    pids.insert(ok["params"]["result"]["pid"].get<int>());
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_TRUE(of_event(events, "restarting").empty()) << event_names(events);
}

}  // namespace
}  // namespace belay::test
