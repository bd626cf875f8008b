// Orphan reaping and `belay cleanup` with real browsers: a host SIGKILLed
// while its browser runs on the websocket transport (which, unlike the
// pipe, does not end with the host), a host that is alive, and a Chromium
// the test started itself inside the state directory, which no cleanup may
// touch.

#include "chrome/proc_table.hpp"
#include "support/chaos_run.hpp"
#include "support/chromium.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

bool alive(pid_t pid) {
  auto info = chrome::read_proc(pid);
  return info && info->state != 'Z';
}

class Cleanup : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(run_.state() + "/profiles");
    foreign_ = std::make_unique<ForeignChromium>(run_.state() + "/profiles/foreign");
    ASSERT_FALSE(foreign_->ws_url().empty()) << "the test's own Chromium did not start";
  }

  void TearDown() override {
    EXPECT_TRUE(foreign_->alive()) << "a cleanup ended the test's own Chromium";
    // The test's own browser and its helpers name the state dir too.
    for (pid_t pid : run_.left_behind(seconds(10), {foreign_->pid()})) {
      ADD_FAILURE() << "left alive: " << pid << " " << cmdline_of(pid);
    }
    foreign_.reset();
  }

  BelayRun cleanup(bool emergency) {
    std::vector<std::string> args = {"cleanup", "--state", run_.state()};
    if (emergency) args.emplace_back("--emergency");
    return run_belay(args, run_.dir().path(), seconds(30));
  }

  ChaosRun run_;
  std::unique_ptr<ForeignChromium> foreign_;
};

TEST_F(Cleanup, TheNextRunReapsTheBrowserOfAKilledHostAndFinishes) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "orphan",
  items = "items.jsonl",
  profiles = { "p1" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    if item.id == "item-2" and ctx.saved == nil then
      ctx:checkpoint({ waited = true })
      ctx:event("waiting")
      belay.sleep(60000)
    end
    return { ok = true }
  end,
}
)LUA",
                                                   4);
  pid_t orphan = 0;
  {
    BelayProcess host(run_.run_args(campaign, {"--transport", "ws"}), run_.dir().path());
    orphan = run_.wait_for_launch(1, seconds(60), &host);
    ASSERT_GT(orphan, 0) << host.describe();
    ASSERT_TRUE(wait_for_event(
        run_.events_path(), [](const json& e) { return e.value("event", "") == "waiting"; },
        seconds(60), &host))
        << host.describe();
    host.send_signal(SIGKILL);
    host.wait(seconds(10));
  }
  ASSERT_TRUE(alive(orphan)) << "with the websocket transport the browser outlives its host";

  const BelayRun rerun =
      run_belay(run_.run_args(campaign, {"--transport", "ws"}), run_.dir().path(), seconds(90));
  EXPECT_EQ(rerun.exit_code, 0) << rerun.describe;
  EXPECT_NE(rerun.err.find("killed " + std::to_string(orphan)), std::string::npos)
      << rerun.describe;
  EXPECT_FALSE(alive(orphan));
  const auto cleanups = of_event(run_.events(), "cleanup");
  ASSERT_EQ(cleanups.size(), 1u);
  EXPECT_EQ(cleanups[0]["params"]["mode"], "orphans");
  bool listed = false;
  for (const auto& k : cleanups[0]["params"]["killed"]) {
    listed = listed || k.value("pid", 0) == orphan;
    EXPECT_EQ(k.value("profile", ""), "p1") << k.dump();
    EXPECT_FALSE(k.value("host_alive", true)) << k.dump();
  }
  EXPECT_TRUE(listed) << cleanups[0].dump();

  // Nothing of belay's is left, and the test's own browser is not belay's.
  const BelayRun plain = cleanup(false);
  EXPECT_EQ(plain.exit_code, 0) << plain.describe;
  EXPECT_NE(plain.out.find("nothing to clean"), std::string::npos) << plain.describe;
  const BelayRun emergency = cleanup(true);
  EXPECT_EQ(emergency.exit_code, 0) << emergency.describe;
  EXPECT_NE(emergency.out.find("nothing to clean"), std::string::npos) << emergency.describe;
  EXPECT_TRUE(foreign_->alive());
}

TEST_F(Cleanup, ALiveHostsBrowserIsLeftAloneUnlessItIsAnEmergency) {
  const std::string campaign = run_.write_campaign(R"LUA(return {
  name = "live-host",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { from = "standard", backoff_ms = 100 },
  supervisor = { delay_ms = 200 },
  run = function(page, item, ctx)
    page:navigate(item.url)
    belay.sleep(2000)
    return { ok = true }
  end,
}
)LUA",
                                                   4);
  BelayProcess host(run_.run_args(campaign), run_.dir().path());
  const pid_t browser = run_.wait_for_launch(1, seconds(60), &host);
  ASSERT_GT(browser, 0) << host.describe();
  ASSERT_TRUE(wait_for_event(
      run_.events_path(), [](const json& e) { return e.value("event", "") == "item_start"; },
      seconds(30), &host));

  const BelayRun plain = cleanup(false);
  EXPECT_EQ(plain.exit_code, 0) << plain.describe;
  EXPECT_NE(plain.out.find("nothing to clean"), std::string::npos) << plain.describe;
  EXPECT_TRUE(alive(browser)) << "cleanup ended the browser of a running host";

  const BelayRun emergency = cleanup(true);
  EXPECT_EQ(emergency.exit_code, 0) << emergency.describe;
  EXPECT_NE(emergency.out.find("killed " + std::to_string(browser) + " (profile p1"),
            std::string::npos)
      << emergency.describe;
  EXPECT_NE(emergency.out.find("back to pending"), std::string::npos) << emergency.describe;
  EXPECT_TRUE(group_gone(browser));

  // The host's supervisor relaunches the browser and the run finishes.
  ASSERT_EQ(host.wait(seconds(120)), 0) << host.describe();
  const auto events = run_.events();
  EXPECT_EQ(of_event(events, "item_ok").size(), 4u) << event_names(events);
  const auto cleanups = of_event(events, "cleanup");
  ASSERT_EQ(cleanups.size(), 2u) << event_names(events);
  EXPECT_EQ(cleanups[1]["params"]["mode"], "emergency");
  EXPECT_GE(run_.launched_pids().size(), 2u);
}

}  // namespace
}  // namespace belay::test

namespace belay::test {
namespace {

TEST(CleanupCommand, AMissingStateDirectoryIsAUsageError) {
  TempDir dir;
  const BelayRun r =
      run_belay({"cleanup", "--state", dir.file("no-such-state")}, dir.path(), seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_NE(r.err.find("no state directory at"), std::string::npos) << r.describe;
  EXPECT_FALSE(std::filesystem::exists(dir.file("no-such-state")));
}

}  // namespace
}  // namespace belay::test
