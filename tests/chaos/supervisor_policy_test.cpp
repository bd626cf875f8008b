// Supervisor decisions made by a campaign's own Lua functions, against real
// Chromium browsers killed by the PID belay reported: a custom restart
// delay, fatal after two deaths, a pause on a custom streak (and a pause
// extended when it runs out), a soft restart on a memory figure, and a
// policy that fails, which is a `config` error naming it while the bundled
// policy decides. The default policy is the rest of the suite: every
// supervisor, pause and soft restart test runs on scripts/belay/supervisor.lua.

#include "support/chaos_run.hpp"
#include "support/chromium.hpp"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <thread>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

class PolicyFromLua : public ::testing::Test {
 protected:
  void TearDown() override {
    for (pid_t pid : run_.left_behind(seconds(10))) {
      ADD_FAILURE() << "left alive: " << pid << " " << cmdline_of(pid);
    }
  }

  ChaosRun run_;
};

TEST_F(PolicyFromLua, RestartsAfterItsOwnDelayAndIsFatalAfterTwoDeaths) {
  // Steps that never fail on their own, so the doomed item outlasts the
  // restarts (see Supervisor.ABrowserThatAlwaysDies…). Under ASan on a
  // loaded machine "steady" once finished every item before "doomed"'s
  // browser was up, so the run ended green: "steady" now waits (up to
  // 20 s, a count both profiles' runs share) until "doomed" has an item.
  const std::string campaign = run_.write_campaign(R"LUA(
local doomed_started = false
local steps = {}
for i = 1, 12 do steps[i] = { name = "again" .. i, run = function(page, ctx) end } end
return {
  name = "custom-supervisor",
  items = "items.jsonl",
  profiles = { "doomed", "steady" },
  ladder = { backoff_ms = 100, steps = steps },
  supervisor = function(facts, options)
    if #facts.recent_restarts >= 2 then
      return { action = "fatal", reason = "two deaths, the last " .. facts.reason }
    end
    return { action = "restart", delay_ms = 1500 }
  end,
  run = function(page, item, ctx)
    if ctx.profile == "doomed" then doomed_started = true end
    local waited = 0
    while not doomed_started and waited < 20000 do
      belay.sleep(50)
      waited = waited + 50
    end
    page:navigate(item.url)
    if ctx.profile == "doomed" then page:wait_for("#never", { timeout = 60000 }) end
    return { profile = ctx.profile }
  end,
}
)LUA",
                                                   6);
  BelayProcess belay(run_.run_args(campaign), run_.dir().path());
  const std::set<pid_t> killed = run_.kill_each_launch("doomed", belay, seconds(90));
  ASSERT_EQ(belay.wait(seconds(90)), 1) << belay.describe();
  const auto events = run_.events();
  const auto fatal = of_event(events, "fatal");
  ASSERT_EQ(fatal.size(), 1u) << event_names(events);
  EXPECT_EQ(fatal[0].value("profile", ""), "doomed");
  EXPECT_EQ(fatal[0]["params"]["reason"], "two deaths, the last disconnected");
  // The first launch and the two restarts the function allowed.
  EXPECT_EQ(killed.size(), 3u);
  int restart_waits = 0;
  for (const auto& w : of_event(events, "waiting")) {
    if (w["params"]["what"] != "restart") continue;
    ++restart_waits;
    EXPECT_EQ(w["params"]["ms"], 1500) << w.dump();
    EXPECT_EQ(w.value("profile", ""), "doomed");
  }
  EXPECT_EQ(restart_waits, 2) << event_names(events);
  EXPECT_EQ(of_event(events, "item_ok").size(), 6u);
  EXPECT_TRUE(of_event(events, "handler_failed").empty()) << event_names(events);
}

TEST_F(PolicyFromLua, PausesOnItsOwnStreakAndExtendsThePauseOnce) {
  const std::string campaign = run_.write_campaign(R"LUA(
local extended = false
return {
  name = "custom-pause",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 1 },
  ladder = { steps = {} },
  pause = {
    decide = function(facts, options)
      if not facts.ok and facts.error.kind == "not_found" and facts.error_streak >= 2 then
        return { pause_ms = 1200, reason = "two_misses", close_browser = false }
      end
    end,
    ended = function(facts, options)
      if not extended then
        extended = true
        return { pause_ms = 300, reason = "extended" }
      end
    end,
  },
  run = function(page, item, ctx)
    page:navigate(item.url)
    page:wait_for("#never", { timeout = 200 })
  end,
}
)LUA",
                                                   3);
  const BelayRun r = run_belay(run_.run_args(campaign), run_.dir().path(), seconds(90));
  ASSERT_EQ(r.exit_code, 1) << r.describe;
  const auto events = run_.events();
  const auto pauses = of_event(events, "pause");
  ASSERT_EQ(pauses.size(), 2u) << event_names(events);
  EXPECT_EQ(pauses[0]["params"]["reason"], "two_misses");
  EXPECT_EQ(pauses[0]["params"]["ms"], 1200);
  EXPECT_EQ(pauses[0]["params"]["error_streak"], 2);
  EXPECT_EQ(pauses[0]["params"]["close_browser"], false);
  EXPECT_EQ(pauses[1]["params"]["reason"], "extended");
  EXPECT_EQ(pauses[1]["params"]["ms"], 300);
  EXPECT_EQ(pauses[1]["params"]["close_browser"], true);
  const auto unpauses = of_event(events, "unpause");
  ASSERT_EQ(unpauses.size(), 1u) << event_names(events);
  EXPECT_EQ(unpauses[0]["params"]["reason"], "expired");
  // The first pause kept the browser; the extension (close_browser by
  // default) closed it, so the profile came back on a second one.
  EXPECT_EQ(run_.launched_pids().size(), 2u);
  EXPECT_EQ(of_event(events, "item_failed").size(), 3u);
}

TEST_F(PolicyFromLua, SoftRestartsOnAMemoryFigureItChose) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "custom-soft",
  items = "items.jsonl",
  profiles = { "p1" },
  health = { interval_ms = 200 },  -- memory is read at most once per beat
  soft_restart = function(facts, options)
    if facts.memory_mb and facts.memory_mb >= 1 then
      return { reason = "over_1_mb", detail = { limit_mb = 1 } }
    end
  end,
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
    EXPECT_EQ(e["params"]["reason"], "over_1_mb") << e.dump();
    EXPECT_EQ(e["params"]["limit_mb"], 1) << e.dump();
    EXPECT_GE(e["params"].value("memory_mb", 0), 1) << e.dump();
    EXPECT_EQ(e["params"]["items"], 1) << e.dump();
  }
  std::set<int> pids;
  for (const auto& ok : of_event(events, "item_ok")) {
    pids.insert(ok["params"]["result"]["pid"].get<int>());
  }
  EXPECT_EQ(pids.size(), 3u);
}

// A hot reload swaps the policy with the rest of the campaign: from the
// next decision on, the edited function decides.
TEST_F(PolicyFromLua, AHotReloadSwapsThePolicy) {
  const std::string before = R"LUA(return {
  name = "reloaded-policy",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 1 },
  ladder = { steps = {} },
  pause = { max_error_streak = 1000, decide = function(facts, options) return nil end },
  run = function(page, item, ctx)
    belay.sleep(200)
    belay.error("not_found", "never there")
  end,
}
)LUA";
  const std::string campaign = run_.write_campaign(before, 200);
  std::vector<std::string> args = run_.run_args(campaign);
  args.erase(std::remove(args.begin(), args.end(), "--no-reload"), args.end());
  BelayProcess belay(args, run_.dir().path());
  auto is = [](const char* name) {
    return [name](const json& e) { return e.value("event", "") == name; };
  };
  ASSERT_TRUE(wait_for_event(run_.events_path(), is("item_failed"), seconds(60), &belay))
      << belay.describe();
  std::string after = before;
  const std::string old_decide = "return nil end";
  after.replace(after.find(old_decide), old_decide.size(),
                "return { pause_ms = 600000, reason = \"reloaded\", close_browser = false } end");
  {
    const std::string temp = campaign + ".tmp";
    std::ofstream(temp) << after;
    ASSERT_EQ(std::rename(temp.c_str(), campaign.c_str()), 0);
  }
  const auto pause = wait_for_event(run_.events_path(), is("pause"), seconds(30), &belay);
  ASSERT_TRUE(pause) << belay.describe() << event_names(run_.events());
  EXPECT_EQ((*pause)["params"]["reason"], "reloaded");
  belay.send_signal(SIGINT);
  belay.wait(seconds(30));
  const auto events = run_.events();
  size_t reload_at = events.size();
  size_t pause_at = events.size();
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string name = events[i].value("event", "");
    if (name == "reload" && events[i].value("outcome", "") == "ok" && reload_at == events.size()) {
      reload_at = i;
    }
    if (name == "pause" && pause_at == events.size()) pause_at = i;
  }
  EXPECT_LT(reload_at, pause_at) << event_names(events);
  EXPECT_TRUE(of_event(events, "handler_failed").empty()) << event_names(events);
}

// A decision the host cannot carry out, and a function that waits, are
// `config` errors naming the function (a `handler_failed` event); the
// bundled policy decides instead and the run goes on.
TEST_F(PolicyFromLua, AFailingPolicyIsAConfigErrorNamingItAndTheBundledOneDecides) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "bad-policy",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 2, base_ms = 10, kinds = { "browser_disconnected" } },
  supervisor = { delay_ms = 100, decide = function(facts, options)
    return { action = "relaunch" }
  end },
  pause = function(facts, options)
    belay.sleep(10)
  end,
  run = function(page, item, ctx)
    page:navigate(item.url)
    if ctx.saved == nil then
      ctx:checkpoint({ killed = true })
      ctx.browser:cdp("Browser.crash")
    end
    return { attempt = ctx.attempt }
  end,
}
)LUA",
                                                   1);
  const BelayRun r = run_belay(run_.run_args(campaign), run_.dir().path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = run_.events();
  EXPECT_EQ(of_event(events, "item_ok").size(), 1u) << event_names(events);
  EXPECT_EQ(run_.launched_pids().size(), 2u);
  const auto failed = of_event(events, "handler_failed");
  bool death = false;
  bool item = false;
  for (const auto& f : failed) {
    const json& p = f["params"];
    EXPECT_EQ(p["kind"], "config") << f.dump();
    const std::string message = p.value("message", "");
    if (p["handler"] == "supervisor.after_death") {
      death = true;
      EXPECT_EQ(message,
                "the campaign's supervisor.decide (campaign.lua:6) returned a bad decision: "
                "action must be \"restart\" or \"fatal\", got \"relaunch\"");
    } else if (p["handler"] == "supervisor.after_item") {
      item = true;
      EXPECT_THAT(message, HasSubstr("the campaign's pause (campaign.lua:9) raised script: "));
      EXPECT_THAT(message, HasSubstr("belay.sleep cannot be called here"));
    }
  }
  EXPECT_TRUE(death) << event_names(events);
  EXPECT_TRUE(item) << event_names(events);
}

}  // namespace
}  // namespace belay::test
