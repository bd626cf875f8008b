// `belay pause` and `belay resume` from the shell, end to end: on a live run
// (through its console) and on a stopped state (in the store, honoured by
// the next run), each change proven by its event in events.jsonl.

#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;

const char* kCampaign = R"(return {
  name = "pausing",
  items = "items.jsonl",
  profiles = { "p1", "p2" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { title = page:title() }
  end,
}
)";

class CliPause : public ::testing::Test {
 protected:
  void write_items(int n, int ms) {
    std::string items;
    for (int i = 1; i <= n; ++i) {
      items += json{{"id", "k" + std::to_string(i)},
                    {"url", fixture_.url("/slow?ms=" + std::to_string(ms))}}
                   .dump() +
               "\n";
    }
    dir_.write("items.jsonl", items);
  }
  std::vector<std::string> run_args() const {
    return {"run", campaign_, "--state", state(), "--no-reload"};
  }
  BelayRun belay(std::vector<std::string> args) const {
    args.push_back("--state");
    args.push_back(state());
    return run_belay(args, dir_.path(), seconds(60));
  }
  std::vector<json> named(const std::string& name, const std::string& profile) const {
    std::vector<json> out;
    for (const auto& e : read_events(events())) {
      if (e.value("event", "") == name && e.value("profile", "") == profile) out.push_back(e);
    }
    return out;
  }
  std::string state() const { return dir_.file("state"); }
  std::string events() const { return dir_.file("state/events.jsonl"); }

  TempDir dir_{"belay-pause-"};
  BackgroundFixtureServer fixture_;
  std::string campaign_ = dir_.write("campaign.lua", kCampaign);
};

TEST_F(CliPause, OnALiveRunThroughItsConsole) {
  write_items(40, 500);
  BelayProcess run(run_args(), dir_.path());
  ASSERT_TRUE(wait_for_event(
      events(), [](const json& e) { return e.value("event", "") == "item_start"; }, seconds(60),
      &run))
      << run.describe();

  const BelayRun paused = belay({"pause", "p1", "--for", "10m"});
  EXPECT_EQ(paused.exit_code, 0) << paused.describe;
  EXPECT_THAT(paused.out, HasSubstr("name = \"p1\"")) << paused.describe;
  const auto pauses = named("pause", "p1");
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0]["params"]["reason"], "operator");
  EXPECT_EQ(pauses[0]["params"]["ms"], 600000);

  const BelayRun resumed = belay({"resume", "p1"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.describe;
  EXPECT_THAT(resumed.out, HasSubstr("p1 resumed")) << resumed.describe;
  const auto unpauses = named("unpause", "p1");
  ASSERT_EQ(unpauses.size(), 1u);
  EXPECT_EQ(unpauses[0]["params"]["reason"], "operator");

  const BelayRun nothing = belay({"resume"});
  EXPECT_EQ(nothing.exit_code, 0) << nothing.describe;
  EXPECT_THAT(nothing.out, HasSubstr("nothing to resume")) << nothing.describe;

  const BelayRun unknown = belay({"pause", "p9"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.describe;
  EXPECT_THAT(unknown.err, HasSubstr("p9")) << unknown.describe;

  EXPECT_EQ(run.wait(seconds(120)), 0) << run.describe();
}

TEST_F(CliPause, OnAStoppedStateTheNextRunHonoursIt) {
  write_items(1, 0);
  ASSERT_EQ(run_belay(run_args(), dir_.path(), seconds(60)).exit_code, 0);

  const BelayRun paused = belay({"pause", "p1", "--for", "2h"});
  EXPECT_EQ(paused.exit_code, 0) << paused.describe;
  EXPECT_THAT(paused.out, HasSubstr("p1 paused until ")) << paused.describe;
  EXPECT_THAT(paused.out, HasSubstr("belay resume p1")) << paused.describe;
  auto pauses = named("pause", "p1");
  ASSERT_EQ(pauses.size(), 1u);
  EXPECT_EQ(pauses[0]["params"]["reason"], "operator");
  EXPECT_EQ(pauses[0]["params"]["ms"], 2 * 3600 * 1000);
  EXPECT_EQ(pauses[0]["campaign"], "pausing");

  // The next run: p1 sits the pause out, p2 takes the new items.
  write_items(3, 0);
  const size_t p1_items = named("item_start", "p1").size();
  const BelayRun next = run_belay(run_args(), dir_.path(), seconds(60));
  EXPECT_EQ(next.exit_code, 0) << next.describe;
  pauses = named("pause", "p1");
  ASSERT_EQ(pauses.size(), 2u);
  EXPECT_EQ(pauses[1]["params"]["reason"], "persisted");
  EXPECT_EQ(named("item_start", "p1").size(), p1_items) << "p1 took an item while paused";

  const BelayRun resumed = belay({"resume"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.describe;
  EXPECT_THAT(resumed.out, HasSubstr("p1 resumed: the next belay run starts it"))
      << resumed.describe;
  const auto unpauses = named("unpause", "p1");
  ASSERT_EQ(unpauses.size(), 1u);
  EXPECT_EQ(unpauses[0]["params"]["reason"], "operator");
  const BelayRun again = belay({"resume", "p1"});
  EXPECT_THAT(again.out, HasSubstr("nothing to resume")) << again.describe;

  const BelayRun unknown = belay({"resume", "p9"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.describe;
  EXPECT_THAT(unknown.err, HasSubstr("no profile 'p9'")) << unknown.describe;
  EXPECT_THAT(unknown.err, HasSubstr("there are: p1, p2")) << unknown.describe;
  const BelayRun bad = belay({"pause", "p1", "--for", "soon"});
  EXPECT_EQ(bad.exit_code, 2) << bad.describe;
  EXPECT_THAT(bad.err, HasSubstr("--for: 'soon' is not a duration")) << bad.describe;
}

// A run whose every profile is paused is never silent: it says so at once
// and repeats the hint every pause.remind_ms (a minute unless set) until a
// pause ends (here: SIGINT).
TEST_F(CliPause, EveryProfilePausedRepeatsTheHint) {
  dir_.write("campaign.lua",
             std::string(kCampaign).replace(std::string(kCampaign).find("  run ="), 0,
                                            "  pause = { remind_ms = 3000 },\n"));
  write_items(1, 0);
  const BelayRun setup = run_belay(run_args(), dir_.path(), seconds(60));
  ASSERT_EQ(setup.exit_code, 0) << setup.describe;
  ASSERT_EQ(belay({"pause", "p1", "--for", "2h"}).exit_code, 0);
  ASSERT_EQ(belay({"pause", "p2", "--for", "3h"}).exit_code, 0);
  write_items(2, 0);
  BelayProcess run(run_args(), dir_.path());
  auto paused_wait = [](const json& e) {
    return e.value("event", "") == "waiting" && e["params"].value("what", "") == "paused";
  };
  const auto waits = wait_for_events(events(), paused_wait, 2, seconds(60), &run);
  run.send_signal(SIGINT);
  run.wait(seconds(30));
  ASSERT_EQ(waits.size(), 2u) << run.describe();
  const int64_t first = *parse_iso8601_ms(waits[0].value("ts", ""));
  const int64_t second = *parse_iso8601_ms(waits[1].value("ts", ""));
  EXPECT_GE(second - first, 2900) << "the loop clock may run a little behind the wall clock";
  EXPECT_LE(second - first, 20000) << "once every remind_ms, not once in a while";
  for (const auto& w : waits) {
    EXPECT_THAT(w["params"].value("hint", ""), HasSubstr("belay resume")) << w.dump();
    EXPECT_THAT(w["params"].value("why", ""), HasSubstr("paused")) << w.dump();
    EXPECT_GT(w["params"].value("until_ms", int64_t{0}), first) << w.dump();
  }
}

}  // namespace
}  // namespace belay::test
