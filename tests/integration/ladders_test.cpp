// The bundled sample ladders (recovery-ladders/*.lua) end to end: each one's
// header comment is its contract, proved here with the real `belay` binary
// against a real Chromium and pages made to fail the way the ladder is meant
// to handle — a selector that never appears (not_found), a page that
// navigates away under an evaluate (context_destroyed), a closed port
// (navigation_failed), a browser that crashes (browser_disconnected). The
// fixture server's per-key hit counters say how many times an item really
// ran; events.jsonl is the record (DESIGN.md "A ladder", "Layers of
// recovery", "Durable state").

#include "support/belay_process.hpp"
#include "support/chromium.hpp"
#include "support/fixture_server.hpp"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string name_of(const json& e) { return e.value("event", ""); }

std::string names(const std::vector<json>& events) {
  std::string out;
  for (const auto& e : events) {
    out += (out.empty() ? "" : " ") + name_of(e);
    if (e["item"].is_string()) out += ":" + e["item"].get<std::string>();
  }
  return out;
}

std::vector<json> named(const std::vector<json>& events, const std::string& name) {
  std::vector<json> out;
  for (const auto& e : events) {
    if (name_of(e) == name) out.push_back(e);
  }
  return out;
}

// The position of the first event named `name` (of item `item`, if given)
// at or after `from`; events.size() if there is none.
size_t find_event(const std::vector<json>& events, const std::string& name, size_t from = 0,
                  const std::string& item = "") {
  for (size_t i = from; i < events.size(); ++i) {
    if (name_of(events[i]) != name) continue;
    if (!item.empty() && events[i].value("item", json()) != item) continue;
    return i;
  }
  return events.size();
}

// The first `circuit` event with params.state == `state` at or after `from`.
size_t find_circuit(const std::vector<json>& events, const std::string& state, size_t from) {
  for (size_t i = from; i < events.size(); ++i) {
    if (name_of(events[i]) == "circuit" && events[i]["params"].value("state", "") == state) {
      return i;
    }
  }
  return events.size();
}

int64_t ts_of(const json& e) {
  const auto ms = parse_iso8601_ms(e.value("ts", ""));
  EXPECT_TRUE(ms.has_value()) << e.dump();
  return ms.value_or(0);
}

// A state dir, a campaign dir beside it and a fixture server; one `belay
// run` per test. Every test ends with no browser of its own left.
class LadderRun : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = dir_.file("state");
    fs::create_directories(dir_.file("campaign"));
  }

  void TearDown() override {
    for (pid_t pid : wait_no_process_mentioning(state_, seconds(10))) {
      ADD_FAILURE() << "left alive after the run: " << pid << " " << cmdline_of(pid);
    }
  }

  std::string events_path() const { return state_ + "/events.jsonl"; }
  std::string screenshot(const std::string& name) const { return state_ + "/screenshots/" + name; }

  // Writes items.jsonl (one line per item) and campaign.lua; returns the
  // campaign's path.
  std::string write_campaign(const std::string& source, const std::vector<json>& items) {
    std::string lines;
    for (const auto& item : items) lines += item.dump() + "\n";
    dir_.write("campaign/items.jsonl", lines);
    return dir_.write("campaign/campaign.lua", source);
  }

  // {"id": key, "url": fixture /item?key=key} plus `extra`.
  json item(const std::string& key, json extra = json::object()) const {
    extra["id"] = key;
    extra["url"] = server_.url("/item?key=" + key);
    return extra;
  }

  std::vector<std::string> run_args(const std::string& campaign) const {
    return {"run", campaign, "--state", state_, "--chrome", chrome_path(), "--no-reload"};
  }

  BelayRun run(const std::string& campaign) {
    BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90));
    std::cout << "[ ladder   ] belay run took " << r.seconds << " s\n";
    return r;
  }

  TempDir dir_{"belay-ladders-"};
  BackgroundFixtureServer server_;
  std::string state_;
};

// ---------------------------------------------------------------- standard

class LadderStandard : public LadderRun {};

// standard.lua: go_home, back, reload, reopen_page, restart_browser, in that
// order, the item tried again after each; the first success ends it; the
// browser comes back on the same user-data-dir. The item here fails for as
// long as it runs in its first browser (a real not_found), so only the fifth
// step can save it.
//
// Regression: Browser::close used to SIGTERM the process group as soon as
// Chrome answered Browser.close (at once, before it had shut down), killing
// the network service and storage before they flushed: the cookie (always)
// and recent localStorage came back empty after restart_browser.
TEST_F(LadderStandard, StepsRunInOrderAndRestartBrowserKeepsTheProfile) {
  const std::string source = replace_all(R"LUA(return {
  name = "standard-ladder",
  items = "items.jsonl",
  profiles = { "p1" },
  home = "@HOME@",
  ladder = { from = "standard", backoff_ms = 100 },
  run = function(page, item, ctx)
    ctx:event("try", { url = page:url() })  -- where the last step left the page
    page:navigate(item.url)
    local pid = ctx.browser:pid()
    if ctx.saved == nil then
      -- Written into the profile by the first browser, read by the last.
      page:evaluate([[(() => {
        localStorage.setItem('belay', 'kept');
        document.cookie = 'belay=kept; max-age=3600; path=/';
        return true })()]])
      ctx:checkpoint({ pid = pid })
    end
    if pid == ctx.saved.pid then
      page:wait_for("#never", { timeout = 100 })
    end
    return { first_pid = ctx.saved.pid, pid = pid, attempt = ctx.attempt,
             stored = page:evaluate("localStorage.getItem('belay')"),
             cookie = page:evaluate("document.cookie") }
  end,
}
)LUA",
                                         "@HOME@", server_.url("/page1"));
  const std::string campaign = write_campaign(source, {item("a")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);

  const auto start = named(events, "run_start");
  ASSERT_EQ(start.size(), 1u) << log;
  EXPECT_EQ(start[0]["params"]["ladder"], "standard");

  // fail x4 (each step ran, the item failed after it), then ok at step 5.
  const auto recovers = named(events, "recover");
  const std::vector<std::string> order = {"go_home", "back", "reload", "reopen_page",
                                          "restart_browser"};
  ASSERT_EQ(recovers.size(), order.size()) << log;
  for (size_t i = 0; i < order.size(); ++i) {
    SCOPED_TRACE(recovers[i].dump());
    EXPECT_EQ(recovers[i]["params"]["step"], i + 1);
    EXPECT_EQ(recovers[i]["params"]["name"], order[i]);
    EXPECT_FALSE(recovers[i]["params"].contains("step_error")) << "the step itself failed";
    if (i + 1 < order.size()) {
      EXPECT_EQ(recovers[i]["outcome"], "fail");
      EXPECT_EQ(recovers[i]["params"]["error"]["kind"], "not_found");
    } else {
      EXPECT_EQ(recovers[i]["outcome"], "ok");
    }
  }
  // The first try and one after each step; each step before the next try.
  // A step's recover event is written once the try after it has ended.
  std::string flow;
  for (const auto& e : events) {
    const std::string n = name_of(e);
    if (n == "try" || n == "recover" || n == "restarting") flow += (flow.empty() ? "" : " ") + n;
  }
  EXPECT_EQ(flow, "try try recover try recover try recover try recover restarting try recover");
  // Each step did its move: where the page was when the next try began.
  const auto tries = named(events, "try");
  ASSERT_EQ(tries.size(), 6u) << log;
  const std::string home = server_.url("/page1");
  const std::string item_url = server_.url("/item?key=a");
  EXPECT_EQ(tries[1]["params"]["url"], home) << "go_home";
  EXPECT_EQ(tries[2]["params"]["url"], home) << "back (from the item page to home)";
  EXPECT_EQ(tries[3]["params"]["url"], item_url) << "reload";
  EXPECT_EQ(tries[4]["params"]["url"], "about:blank") << "reopen_page: a new page";
  EXPECT_EQ(tries[5]["params"]["url"], "about:blank") << "restart_browser: a new browser";
  // Six navigations to the item page, and one more by the reload step,
  // which really reloaded it (the page is no-store).
  EXPECT_EQ(server_.hits("a"), 7);

  // One restart, announced with its screenshot, between two launches.
  const auto restarting = named(events, "restarting");
  ASSERT_EQ(restarting.size(), 1u) << log;
  EXPECT_EQ(restarting[0]["params"]["restart"], 1);
  EXPECT_EQ(restarting[0]["params"]["screenshot"], "restart-p1-1.png");
  EXPECT_TRUE(fs::exists(screenshot("restart-p1-1.png")));
  const auto launches = named(events, "browser_launch");
  ASSERT_EQ(launches.size(), 2u) << log;
  const size_t relaunch =
      find_event(events, "browser_launch", find_event(events, "browser_launch") + 1);
  EXPECT_LT(find_event(events, "recover"), find_event(events, "restarting")) << log;
  EXPECT_LT(find_event(events, "restarting"), relaunch) << log;

  const auto ok = named(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << log;
  const json& result = ok[0]["params"]["result"];
  EXPECT_EQ(result["first_pid"], launches[0]["params"]["pid"]);
  EXPECT_EQ(result["pid"], launches[1]["params"]["pid"]);
  EXPECT_NE(result["first_pid"], result["pid"]);
  EXPECT_EQ(result["attempt"], 6);
  EXPECT_EQ(ok[0]["params"]["attempt"], 6);
  // Same user-data-dir: what the first browser stored, the second one reads
  // (the Browser::close regression above).
  EXPECT_EQ(result["stored"], "kept") << "localStorage lost across the restart";
  EXPECT_EQ(result["cookie"], "belay=kept") << "the persistent cookie lost across the restart";
}

// standard.lua: "a profile whose items fail more than 3 times in a row
// pauses for 24 h" (its `pause`; the steps are left out here to keep it
// short). The paused profile takes no further item, so the run is stopped.
TEST_F(LadderStandard, FourFailuresInARowPauseTheProfileFor24Hours) {
  std::vector<json> items;
  for (const std::string key : {"a", "b", "c", "d", "e"}) items.push_back(item(key));
  const std::string campaign = write_campaign(R"LUA(return {
  name = "standard-pause",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { from = "standard", steps = {} },
  run = function(page, item, ctx)
    page:navigate(item.url)
    page:wait_for("#never", { timeout = 100 })
  end,
}
)LUA",
                                              items);
  BelayProcess belay(run_args(campaign), dir_.path());
  const auto pause = wait_for_event(
      events_path(), [](const json& e) { return name_of(e) == "pause"; }, seconds(60), &belay);
  ASSERT_TRUE(pause.has_value()) << belay.describe();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // no next item may start
  belay.send_signal(SIGTERM);
  ASSERT_TRUE(belay.wait_for_exit(seconds(20))) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 1) << belay.describe();

  const json& params = (*pause)["params"];
  EXPECT_EQ(params["reason"], "error_streak") << params.dump();
  EXPECT_EQ(params["error_streak"], 4) << params.dump();
  EXPECT_EQ(params["ms"], 24 * 3600 * 1000) << params.dump();
  const auto events = read_events(events_path());
  const std::string log = names(events);
  EXPECT_EQ(named(events, "item_failed").size(), 4u) << log;
  EXPECT_LT(find_event(events, "item_failed", 0, "d"), find_event(events, "pause")) << log;
  EXPECT_EQ(find_event(events, "item_start", 0, "e"), events.size()) << "a paused profile took e";
  EXPECT_EQ(server_.hits("e"), 0);
  // Never silent: the pause says how to end it, and once nothing can run
  // the run says so (and would again every minute).
  EXPECT_THAT(params.value("hint", ""), ::testing::HasSubstr("belay resume p1")) << params.dump();
  const size_t stalled = find_event(events, "waiting", find_event(events, "pause"));
  ASSERT_LT(stalled, events.size()) << log;
  EXPECT_EQ(events[stalled]["params"]["what"], "paused") << events[stalled].dump();
  EXPECT_EQ(events[stalled]["params"]["until_ms"], params["until_ms"]) << events[stalled].dump();
  EXPECT_THAT(events[stalled]["params"].value("hint", ""), ::testing::HasSubstr("belay resume p1"))
      << events[stalled].dump();
  EXPECT_THAT(events[stalled]["params"].value("why", ""), ::testing::HasSubstr("1 items wait"))
      << events[stalled].dump();

  // The next run honours the stored pause and says so at once too.
  BelayProcess again(run_args(campaign), dir_.path());
  const size_t seen = events.size();
  const auto stalls = wait_for_events(
      events_path(),
      [](const json& e) {
        return name_of(e) == "waiting" && e["params"].value("what", "") == "paused";
      },
      2, seconds(60), &again);
  ASSERT_EQ(stalls.size(), 2u) << again.describe();
  again.send_signal(SIGTERM);
  ASSERT_TRUE(again.wait_for_exit(seconds(20))) << again.describe();
  const auto second = read_events(events_path());
  const size_t persisted = find_event(second, "pause", seen);
  ASSERT_LT(persisted, second.size()) << names(second);
  EXPECT_EQ(second[persisted]["params"]["reason"], "persisted");
}

// DESIGN.md "A ladder": a campaign without `ladder` uses standard.
TEST_F(LadderStandard, CampaignWithoutLadderUsesStandard) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "no-ladder",
  items = "items.jsonl",
  profiles = { "p1" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { ok = true }
  end,
}
)LUA",
                                              {item("a")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto start = named(read_events(events_path()), "run_start");
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0]["params"]["ladder"], "standard") << start[0].dump();
}

// backoff_ms is waited *between* steps: the first step runs at once (the
// guide's first campaign once waited 30 s before it, silently), and a wait
// over a second is announced with a `waiting` event before it begins.
TEST_F(LadderStandard, FirstStepRunsAtOnceLaterStepsWaitAnnounced) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "standard-backoff",
  items = "items.jsonl",
  profiles = { "p1" },
  home = "about:blank",
  ladder = { from = "standard", backoff_ms = 1500 },
  run = function(page, item, ctx)
    ctx:event("try", { attempt = ctx.attempt })
    if ctx.attempt <= 2 then belay.error("not_found", "not yet") end
    return { attempt = ctx.attempt }
  end,
}
)LUA",
                                              {item("a")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  std::string flow;
  for (const auto& e : events) {
    const std::string n = name_of(e);
    if (n == "try" || n == "recover" || n == "waiting") flow += (flow.empty() ? "" : " ") + n;
  }
  // try 1 fails, step 1 (go_home) at once, try 2 fails, a wait announced,
  // step 2 (back), try 3 succeeds.
  EXPECT_EQ(flow, "try try recover waiting try recover") << names(events);
  const auto waiting = named(events, "waiting");
  ASSERT_EQ(waiting.size(), 1u) << names(events);
  const json& params = waiting[0]["params"];
  EXPECT_EQ(params["what"], "recover") << params.dump();
  EXPECT_EQ(params["step"], 2) << params.dump();
  EXPECT_EQ(params["name"], "back") << params.dump();
  EXPECT_EQ(params["ms"], 1500) << params.dump();
  EXPECT_NEAR(params["until_ms"].get<int64_t>(), ts_of(waiting[0]) + 1500, 50) << params.dump();
  EXPECT_THAT(params.value("why", ""), ::testing::HasSubstr("backoff_ms")) << params.dump();
  EXPECT_EQ(waiting[0]["profile"], "p1");
  EXPECT_EQ(waiting[0]["item"], "a");
  // The announced wait really happened before step 2's try.
  const auto tries = named(events, "try");
  ASSERT_EQ(tries.size(), 3u);
  EXPECT_GE(ts_of(tries[2]) - ts_of(waiting[0]), 1500 - 20);
}

// A host name that does not resolve is wrong in the address itself: no
// step can fix it, so `standard` skips its steps (a `recover` event, outcome
// `skip`, that says why) and the item fails at once, not after 4 waits of
// 30 s (the guide's first campaign with a typo'd host took 5 minutes).
// `.invalid` never resolves (RFC 2606).
TEST_F(LadderStandard, AnAddressThatDoesNotResolveFailsAtOnceWithoutSteps) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "typo",
  items = "items.jsonl",
  profiles = { "p1" },
  home = "http://exmaple.invalid/",
  run = function(page, item, ctx)
    ctx:event("try", { attempt = ctx.attempt })
    page:navigate(ctx.campaign.home)
  end,
}
)LUA",
                                              {item("a"), item("b")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  const auto events = read_events(events_path());
  EXPECT_EQ(named(events, "try").size(), 2u) << names(events);
  EXPECT_TRUE(named(events, "waiting").empty()) << names(events);
  const auto recover = named(events, "recover");
  ASSERT_EQ(recover.size(), 2u) << names(events);
  for (const auto& e : recover) {
    EXPECT_EQ(e.value("outcome", ""), "skip") << e.dump();
    EXPECT_EQ(e["params"]["why"],
              "net::ERR_NAME_NOT_RESOLVED: the host name does not resolve; no recovery step can "
              "fix the address")
        << e.dump();
    EXPECT_EQ(e["params"]["error"]["kind"], "navigation_failed") << e.dump();
  }
  const auto failed = named(events, "item_failed");
  ASSERT_EQ(failed.size(), 2u) << names(events);
  EXPECT_EQ(failed[0]["params"]["kind"], "navigation_failed") << failed[0].dump();
}

// A ladder's `unfixable` that raises is a `handler_failed` event and the
// steps run as if it had said nothing.
TEST_F(LadderStandard, AnUnfixableThatRaisesIsLoggedAndTheStepsRun) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "unfixable-raises",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = {
    steps = { { name = "again", run = function(page, ctx) end } },
    unfixable = function(err, ctx) error("judging failed") end,
  },
  run = function(page, item, ctx)
    if ctx.attempt == 1 then belay.error("not_found", "not yet") end
    return { attempt = ctx.attempt }
  end,
}
)LUA",
                                              {item("a")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  const auto failed = named(events, "handler_failed");
  ASSERT_EQ(failed.size(), 1u) << names(events);
  EXPECT_EQ(failed[0]["params"]["handler"], "ladder.unfixable");
  EXPECT_EQ(failed[0]["params"]["kind"], "script");
  EXPECT_THAT(failed[0]["params"].value("message", ""), ::testing::HasSubstr("judging failed"));
  const auto recover = named(events, "recover");
  ASSERT_EQ(recover.size(), 1u) << names(events);
  EXPECT_EQ(recover[0].value("outcome", ""), "ok");
}

// -------------------------------------------------------------- zero_touch

class LadderZeroTouch : public LadderRun {};

// zero_touch.lua: "Execution context was destroyed" is retried up to 3
// tries, 1 s then 2 s apart, no jitter. The first two tries evaluate a slow
// promise in a page that navigates itself away after 100 ms.
TEST_F(LadderZeroTouch, ContextDestroyedIsRetriedOneThenTwoSecondsApart) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "zero-touch-context",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = "zero_touch",
  run = function(page, item, ctx)
    page:navigate(item.url)
    local n = tonumber(page:text("#count"))
    if n < 3 then
      -- The navigation starts inside the evaluation it destroys, so it cannot
      -- land before the evaluation begins, however slow the machine.
      page:evaluate([[setTimeout(function () { location.href = "/page2" }, 100);
        new Promise(function (resolve) { setTimeout(resolve, 20000) })]])
    end
    return { count = n }
  end,
}
)LUA",
                                              {item("a")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);

  const auto retries = named(events, "retry");
  ASSERT_EQ(retries.size(), 2u) << log;
  const int expected_wait[] = {1000, 2000};
  for (size_t i = 0; i < retries.size(); ++i) {
    SCOPED_TRACE(retries[i].dump());
    EXPECT_EQ(retries[i]["params"]["kind"], "context_destroyed");
    EXPECT_EQ(retries[i]["params"]["op"], "page:evaluate");
    EXPECT_EQ(retries[i]["params"]["attempt"], i + 1);
    EXPECT_EQ(retries[i]["params"]["wait_ms"], expected_wait[i]);
  }
  // The waits really happened: the third try starts 2 s after the second
  // failed, which is 1 s after the first.
  EXPECT_GE(ts_of(retries[1]) - ts_of(retries[0]), 1000 - 20);
  const auto ok = named(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << log;
  EXPECT_GE(ts_of(ok[0]) - ts_of(retries[1]), 2000 - 20);
  EXPECT_EQ(ok[0]["params"]["result"]["count"], 3);
  EXPECT_EQ(server_.hits("a"), 3);
  EXPECT_TRUE(named(events, "recover").empty()) << "call retry was enough: " << log;
  EXPECT_TRUE(named(events, "restarting").empty()) << log;
}

// zero_touch.lua: a browser that disconnects is relaunched after 3 s. The
// item crashes its own browser (Browser.crash) on its first try.
TEST_F(LadderZeroTouch, CrashedBrowserIsRelaunchedAfterThreeSeconds) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "zero-touch-crash",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = "zero_touch",
  run = function(page, item, ctx)
    page:navigate(item.url)
    local pid = ctx.browser:pid()
    if ctx.saved == nil then
      ctx:checkpoint({ pid = pid })
      ctx:event("crashing", { pid = pid })
      ctx.browser:cdp("Browser.crash")
    end
    return { first_pid = ctx.saved.pid, pid = pid }
  end,
}
)LUA",
                                              {item("a")});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);

  const size_t crashing = find_event(events, "crashing");
  ASSERT_LT(crashing, events.size()) << log;
  // The browser died of it (not closed by belay); the supervisor relaunched
  // it after zero_touch's 3 s delay, and the ladder's relaunch step, seeing
  // browser_disconnected, left the fresh browser alone.
  const size_t exited = find_event(events, "browser_exit", crashing);
  ASSERT_LT(exited, events.size()) << "the browser did not die of Browser.crash: " << log;
  const size_t restarting = find_event(events, "restarting", exited);
  ASSERT_LT(restarting, events.size()) << log;
  EXPECT_EQ(named(events, "restarting").size(), 1u) << log;
  EXPECT_EQ(events[restarting]["params"]["restart"], 1);
  const size_t launch = find_event(events, "browser_launch", restarting);
  ASSERT_LT(launch, events.size()) << log;
  EXPECT_EQ(events[launch]["outcome"], "ok");
  const size_t recover = find_event(events, "recover", launch);
  ASSERT_LT(recover, events.size()) << log;
  EXPECT_EQ(events[recover]["outcome"], "ok");
  EXPECT_EQ(events[recover]["params"]["step"], 1);
  EXPECT_EQ(events[recover]["params"]["name"], "relaunch");
  EXPECT_EQ(named(events, "recover").size(), 1u) << log;
  // browser_disconnected is not in zero_touch's retry kinds: no call retry.
  EXPECT_TRUE(named(events, "retry").empty()) << log;
  // The supervisor's 3 s delay was announced as it began.
  const size_t waiting = find_event(events, "waiting", exited);
  ASSERT_LT(waiting, launch) << log;
  EXPECT_EQ(events[waiting]["params"]["what"], "restart") << events[waiting].dump();
  EXPECT_EQ(events[waiting]["params"]["ms"], 3000) << events[waiting].dump();

  // The 3 s backoff came before the relaunch.
  const int64_t gap = ts_of(events[restarting]) - ts_of(events[crashing]);
  std::cout << "[ ladder   ] crash to relaunch: " << gap << " ms\n";
  EXPECT_GE(gap, 3000 - 20);

  const auto ok = named(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << log;
  const json& result = ok[0]["params"]["result"];
  EXPECT_NE(result["first_pid"], result["pid"]);
  EXPECT_EQ(result["pid"], events[launch]["params"]["pid"]);
  EXPECT_EQ(server_.hits("a"), 2);
}

// zero_touch.lua's preventive restart, every N items between items, taken
// over with `from` and a smaller N.
TEST_F(LadderZeroTouch, SoftRestartEveryTwoItemsBetweenItems) {
  std::vector<json> items;
  for (const std::string key : {"a", "b", "c", "d", "e"}) items.push_back(item(key));
  const std::string campaign = write_campaign(R"LUA(return {
  name = "zero-touch-soft",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { from = "zero_touch", soft_restart = { items = 2 } },
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { pid = ctx.browser:pid() }
  end,
}
)LUA",
                                              items);
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);

  const auto soft = named(events, "soft_restart");
  ASSERT_EQ(soft.size(), 2u) << log;
  for (const auto& e : soft) {
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(e["params"]["reason"], "items");
    EXPECT_EQ(e["params"]["items"], 2);
  }
  // Between items: after b's item_ok and before c's item_start, likewise d/e.
  const size_t first = find_event(events, "soft_restart");
  const size_t second = find_event(events, "soft_restart", first + 1);
  EXPECT_LT(find_event(events, "item_ok", 0, "b"), first) << log;
  EXPECT_LT(first, find_event(events, "item_start", 0, "c")) << log;
  EXPECT_LT(find_event(events, "item_ok", 0, "d"), second) << log;
  EXPECT_LT(second, find_event(events, "item_start", 0, "e")) << log;
  // A soft restart is not a recovery: no `restarting`, no screenshot.
  EXPECT_TRUE(named(events, "restarting").empty()) << log;

  std::vector<json> pids;
  for (const auto& e : named(events, "item_ok")) pids.push_back(e["params"]["result"]["pid"]);
  ASSERT_EQ(pids.size(), 5u) << log;
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[2], pids[3]);
  EXPECT_NE(pids[1], pids[2]);
  EXPECT_NE(pids[3], pids[4]);
  EXPECT_NE(pids[0], pids[4]);
  EXPECT_EQ(named(events, "browser_launch").size(), 3u) << log;
}

// ------------------------------------------------------------ auto_restart

class LadderAutoRestart : public LadderRun {
 protected:
  // Fails (a real not_found) while the item's hit count is <= fail_times;
  // the item "config" raises a configuration error.
  std::string campaign_source() const {
    return R"LUA(return {
  name = "auto-restart",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { from = "auto_restart", options = { restart_delay_ms = 200 } },
  run = function(page, item, ctx)
    page:navigate(item.url)
    if item.id == "config" then belay.error("config", "bad") end
    local n = tonumber(page:text("#count"))
    if n <= item.fail_times then
      page:wait_for("#never", { timeout = 100 })
    end
    return { count = n }
  end,
}
)LUA";
  }
};

// auto_restart.lua: 4 tries in all, each of the last 3 in a freshly
// restarted browser, each restart logged with its screenshot; then `fatal`
// with fatal-<profile>.png and the item fails.
TEST_F(LadderAutoRestart, ItemFailingEveryTryRestartsThreeTimesThenIsFatal) {
  const std::string campaign =
      write_campaign(campaign_source(), {item("a", {{"fail_times", 1000}})});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);

  EXPECT_EQ(server_.hits("a"), 4);
  const auto restarting = named(events, "restarting");
  ASSERT_EQ(restarting.size(), 3u) << log;
  for (size_t i = 0; i < restarting.size(); ++i) {
    SCOPED_TRACE(restarting[i].dump());
    const std::string shot = "restart-p1-" + std::to_string(i + 1) + ".png";
    EXPECT_EQ(restarting[i]["params"]["restart"], i + 1);
    EXPECT_EQ(restarting[i]["params"]["screenshot"], shot);
    EXPECT_TRUE(fs::exists(screenshot(shot))) << shot;
  }
  const auto recovers = named(events, "recover");
  ASSERT_EQ(recovers.size(), 3u) << log;
  for (size_t i = 0; i < recovers.size(); ++i) {
    SCOPED_TRACE(recovers[i].dump());
    EXPECT_EQ(recovers[i]["params"]["name"], "restart " + std::to_string(i + 1) + "/3");
    EXPECT_EQ(recovers[i]["outcome"], "fail");
    EXPECT_EQ(recovers[i]["params"]["error"]["kind"], "not_found");
    // restart_delay_ms (200, not 5000) before the next restart.
    if (i + 1 < restarting.size()) {
      EXPECT_GE(ts_of(restarting[i + 1]) - ts_of(recovers[i]), 200 - 20);
    }
  }
  EXPECT_TRUE(named(events, "retry").empty()) << "auto_restart has no call retry: " << log;
  EXPECT_EQ(named(events, "browser_launch").size(), 4u) << log;

  const size_t fatal = find_event(events, "fatal");
  ASSERT_LT(fatal, events.size()) << log;
  EXPECT_EQ(named(events, "fatal").size(), 1u) << log;
  const json& params = events[fatal]["params"];
  EXPECT_EQ(params["scope"], "item") << params.dump();
  EXPECT_EQ(params["attempts"], 4) << params.dump();
  EXPECT_EQ(params["screenshot"], "fatal-p1.png") << params.dump();
  EXPECT_TRUE(fs::exists(screenshot("fatal-p1.png")));
  EXPECT_THAT(params.value("error", ""), ::testing::HasSubstr("not_found")) << params.dump();
  const size_t failed = find_event(events, "item_failed", 0, "a");
  ASSERT_LT(failed, events.size()) << log;
  EXPECT_LT(find_event(events, "restarting", 0), fatal);
  EXPECT_LT(fatal, failed) << log;
  EXPECT_EQ(events[failed]["params"]["kind"], "not_found");
}

// auto_restart.lua: "A configuration error fails at once".
TEST_F(LadderAutoRestart, ConfigErrorFailsAtOnceWithoutRestart) {
  const std::string campaign =
      write_campaign(campaign_source(), {item("config", {{"fail_times", 0}})});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);
  EXPECT_EQ(server_.hits("config"), 1);
  const auto failed = named(events, "item_failed");
  ASSERT_EQ(failed.size(), 1u) << log;
  EXPECT_EQ(failed[0]["params"]["kind"], "config");
  EXPECT_EQ(failed[0]["params"]["message"], "bad");
  for (const std::string name : {"restarting", "recover", "retry", "fatal"}) {
    EXPECT_TRUE(named(events, name).empty()) << name << " in " << log;
  }
  EXPECT_EQ(named(events, "browser_launch").size(), 1u) << log;
}

// auto_restart.lua: the first restart that helps ends it.
TEST_F(LadderAutoRestart, ItemFailingTwiceRecoversAtTheSecondRestart) {
  const std::string campaign = write_campaign(campaign_source(), {item("a", {{"fail_times", 2}})});
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  const std::string log = names(events);
  EXPECT_EQ(server_.hits("a"), 3);
  const auto recovers = named(events, "recover");
  ASSERT_EQ(recovers.size(), 2u) << log;
  EXPECT_EQ(recovers[0]["outcome"], "fail");
  EXPECT_EQ(recovers[0]["params"]["name"], "restart 1/3");
  EXPECT_EQ(recovers[1]["outcome"], "ok");
  EXPECT_EQ(recovers[1]["params"]["step"], 2);
  EXPECT_EQ(recovers[1]["params"]["name"], "restart 2/3");
  EXPECT_EQ(named(events, "restarting").size(), 2u) << log;
  EXPECT_TRUE(named(events, "fatal").empty()) << log;
  const auto ok = named(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << log;
  EXPECT_EQ(ok[0]["params"]["result"]["count"], 3);
}

// ----------------------------------------------------------------- circuit

class LadderCircuit : public LadderRun {};

// circuit.lua: failures counted over every profile open the breaker; then no
// profile starts a try for the cool-down; then one trial (half open) whose
// success closes it. The "site" is down for the first 3 tries overall (the
// hit count of the key "gate" decides): those navigate to a closed port, a
// real navigation_failed. A failing try fails 300 ms after the gate and a
// good one takes 700 ms, so with two profiles a good try is still running
// when the third failure opens the breaker.
//
// Regressions it guards:
// 1. scripts/belay/circuit.lua, Circuit:call: any success used to close an
//    open breaker, so a good try that began before it opened closed it
//    ~0.6 s later and the other profile's tries started in the cool-down.
//    Only the half-open trial's success may close it.
// 2. recovery-ladders/circuit.lua, around: it reported "closed" after any
//    success without looking at the breaker.
// 3. recovery-ladders/circuit.lua, around: a profile waiting while the trial
//    was out reported "open" between "half_open" and "closed".
TEST_F(LadderCircuit, OpensAfterThreeFailuresHoldsEveryProfileThenClosesOnTrial) {
  std::vector<json> items;
  for (int i = 1; i <= 8; ++i) items.push_back(item("i" + std::to_string(i)));
  const std::string source = replace_all(R"LUA(return {
  name = "circuit-ladder",
  items = "items.jsonl",
  profiles = { "p1", "p2" },
  ladder = { from = "circuit", options = { failures = 3, window_ms = 60000, cooldown_ms = 1500 } },
  retry = { attempts = 1 },
  pause = { max_error_streak = 1000 },
  run = function(page, item, ctx)
    ctx:event("try", {})
    page:navigate("@GATE@")
    local n = tonumber(page:text("#count"))
    if n <= 3 then
      belay.sleep(300)
      page:navigate("http://127.0.0.1:1/")
    end
    page:navigate(item.url)
    belay.sleep(700)
    return { gate = n }
  end,
}
)LUA",
                                         "@GATE@", server_.url("/item?key=gate"));
  const std::string campaign = write_campaign(source, items);
  const BelayRun r = run(campaign);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 1) << "3 items fail\n" << r.describe;
  const auto events = read_events(events_path());
  std::string log;
  for (const auto& e : events) {
    const std::string n = name_of(e);
    if (n != "try" && n != "circuit" && n != "item_ok" && n != "item_failed") continue;
    log += " " + n + (n == "circuit" ? "=" + e["params"].value("state", "?") : "") + ":" +
           e.value("item", "") + "@" + std::to_string(ts_of(e) % 100000);
  }

  // Exactly the 3 tries that met the site down failed, each for real.
  const auto failed = named(events, "item_failed");
  ASSERT_EQ(failed.size(), 3u) << log;
  std::set<std::string> failed_items;
  for (const auto& e : failed) {
    EXPECT_EQ(e["params"]["kind"], "navigation_failed") << e.dump();
    failed_items.insert(e["item"].get<std::string>());
  }
  for (const auto& i : items) {
    const std::string key = i["id"];
    if (failed_items.count(key) != 0) continue;
    EXPECT_LT(find_event(events, "item_ok", 0, key), events.size()) << key << " not ok:" << log;
  }
  EXPECT_EQ(named(events, "item_ok").size(), items.size() - 3) << log;
  EXPECT_EQ(named(events, "try").size(), items.size()) << "one try per item:" << log;

  // open after the 3rd failure (reported by the try that failed third,
  // before its item_failed), then half_open, then closed.
  std::vector<std::string> states;
  for (const auto& e : named(events, "circuit")) states.push_back(e["params"].value("state", ""));
  ASSERT_FALSE(states.empty()) << log;
  const size_t open = find_event(events, "circuit");
  EXPECT_EQ(events[open]["params"]["state"], "open") << log;
  EXPECT_EQ(events[open]["params"]["failures"], 3);
  EXPECT_EQ(events[open]["params"]["cooldown_ms"], 1500);
  size_t failed_before_open = 0;
  for (size_t i = 0; i < open; ++i) failed_before_open += name_of(events[i]) == "item_failed";
  EXPECT_EQ(failed_before_open, 2u) << log;
  ASSERT_TRUE(failed_items.count(events[open].value("item", "")) != 0) << log;

  // Every transition is one event: open, half_open, closed and nothing else.
  EXPECT_EQ(states, (std::vector<std::string>{"open", "half_open", "closed"})) << log;

  // The cool-down: no profile starts a try for 1.5 s after the open, by the
  // clock and by the order of events.
  // A try logged before the open (in the same millisecond, on a busy
  // machine) began while the breaker was still closed.
  const int64_t open_ms = ts_of(events[open]);
  for (size_t i = open + 1; i < events.size(); ++i) {
    if (name_of(events[i]) != "try") continue;
    const int64_t at = ts_of(events[i]) - open_ms;
    EXPECT_FALSE(at >= 0 && at < 1400)
        << "a try started " << at << " ms into the cool-down:" << log;
  }
  const size_t half = find_circuit(events, "half_open", open + 1);
  ASSERT_LT(half, events.size()) << "no half_open:" << log;
  for (size_t i = open + 1; i < half; ++i) {
    EXPECT_NE(name_of(events[i]), "try") << "a try started while open: " << events[i].dump() << "\n"
                                         << log;
  }
  const int64_t cooldown = ts_of(events[half]) - ts_of(events[open]);
  std::cout << "[ ladder   ] open to half_open: " << cooldown << " ms\n";
  EXPECT_GE(cooldown, 1400) << log;
  // The trial's success closed it; it is the very next try.
  const size_t trial = find_event(events, "try", half);
  ASSERT_LT(trial, events.size()) << log;
  const size_t closed = find_circuit(events, "closed", half + 1);
  ASSERT_LT(closed, events.size()) << "no closed after half_open:" << log;
  EXPECT_EQ(events[closed].value("item", ""), events[trial].value("item", "")) << log;
  EXPECT_GT(find_event(events, "try", trial + 1), closed)
      << "a second try started while the trial was out:" << log;
}

}  // namespace
}  // namespace belay::test
