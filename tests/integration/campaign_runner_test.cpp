// The durable runner end to end (issue: campaign runner): resume after the
// host is SIGKILLed, bad state files, profiles in parallel with a pause,
// and the event sequence of a recovered item. The real binary, a real
// Chromium, the fixture server's per-key execution counters as the truth.

#include "campaign/item_key.hpp"
#include "support/belay_process.hpp"
#include "support/chromium.hpp"
#include "support/fixture_server.hpp"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string names(const std::vector<json>& events) {
  std::string out;
  for (const auto& e : events) out += (out.empty() ? "" : " ") + e.value("event", "");
  return out;
}

std::vector<json> of_event(const std::vector<json>& events, const std::string& name) {
  std::vector<json> out;
  for (const auto& e : events) {
    if (e.value("event", "") == name) out.push_back(e);
  }
  return out;
}

class CampaignRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = dir_.file("state");
    fs::create_directories(dir_.file("campaign"));
  }

  std::string events_path() const { return state_ + "/events.jsonl"; }

  std::string write_campaign(const std::string& source, const std::vector<std::string>& keys) {
    std::string text;
    for (const auto& key : keys) {
      text += json{{"id", key}, {"url", server_.url("/item?key=" + key)}}.dump() + "\n";
    }
    dir_.write("campaign/items.jsonl", text);
    return dir_.write("campaign/campaign.lua", source);
  }

  std::vector<std::string> run_args(const std::string& campaign) const {
    return {"run", campaign, "--state", state_, "--chrome", chrome_path(), "--no-reload"};
  }

  void expect_no_browser_left() {
    for (pid_t pid : wait_no_process_mentioning(state_, seconds(10))) {
      ADD_FAILURE() << "left alive: " << pid << " " << cmdline_of(pid);
    }
  }

  TempDir dir_;
  BackgroundFixtureServer server_;
  std::string state_;
};

// Each item is counted by the fixture, then takes a while, so a kill can
// land in the middle of one.
const char* kSlowVisit = R"(return {
  name = "resume",
  items = "items.jsonl",
  profiles = { "p1" },
  ladder = { steps = {} },
  run = function(page, item, ctx)
    page:navigate(item.url)
    belay.sleep(250)
    return { key = page:text("#key") }
  end,
}
)";

// DESIGN.md "Nothing is lost": killed three times at different points (in
// the browser launch, in the middle of an item, just after an item ended),
// the campaign still does every item once; an item reported done is never
// run again; at most the item in flight at each kill runs twice.
TEST_F(CampaignRunner, ResumesAfterSigkillWithoutRedoingDoneItems) {
  std::vector<std::string> keys;
  for (int i = 1; i <= 10; ++i) keys.push_back("k" + std::to_string(i));
  const std::string campaign = write_campaign(kSlowVisit, keys);

  std::set<std::string> done_before_kill;
  auto kill_when = [&](const std::function<bool(const json&)>& match) {
    BelayProcess belay(run_args(campaign), dir_.path());
    ASSERT_TRUE(wait_for_event(events_path(), match, seconds(60), &belay)) << belay.describe();
    belay.send_signal(SIGKILL);
    ASSERT_TRUE(belay.wait_for_exit(seconds(10)));
    EXPECT_EQ(belay.term_signal(), SIGKILL);
    for (const auto& e : read_events(events_path())) {
      if (e.value("event", "") == "item_ok") done_before_kill.insert(e["item"].get<std::string>());
    }
    expect_no_browser_left();
  };
  // 1: during the first browser launch.
  kill_when([](const json& e) { return e.value("event", "") == "run_start"; });
  // 2: in the middle of the third item of the run (after its page counted).
  size_t starts_seen = of_event(read_events(events_path()), "item_start").size();
  kill_when([&](const json&) {
    auto starts = of_event(read_events(events_path()), "item_start");
    if (starts.size() < starts_seen + 3) return false;
    return server_.hits(starts.back()["item"].get<std::string>()) >= 1;
  });
  // 3: just after an item was reported done.
  const size_t oks_seen = of_event(read_events(events_path()), "item_ok").size();
  kill_when([&](const json&) {
    return of_event(read_events(events_path()), "item_ok").size() >= oks_seen + 2;
  });
  ASSERT_FALSE(done_before_kill.empty());
  const std::map<std::string, int> hits_before_last_run = server_.all_hits();

  const BelayRun last = run_belay(run_args(campaign), dir_.path(), seconds(120));
  ASSERT_EQ(last.exit_code, 0) << last.describe;
  expect_no_browser_left();

  int extra = 0;
  for (const auto& key : keys) {
    const int hits = server_.hits(key);
    EXPECT_GE(hits, 1) << key << " never ran";
    EXPECT_LE(hits, 2) << key;
    extra += hits - 1;
    if (done_before_kill.count(key) > 0) {
      const auto before = hits_before_last_run.find(key);
      ASSERT_NE(before, hits_before_last_run.end());
      EXPECT_EQ(hits, before->second) << key << " was done before a kill and ran again";
    }
  }
  EXPECT_LE(extra, 3) << "more re-executions than kills";
  // Every line of the log parses (read_events fails the test otherwise) and
  // the last run did only what was left.
  const auto events = read_events(events_path());
  const auto finish = of_event(events, "run_finish");
  ASSERT_FALSE(finish.empty());
  EXPECT_EQ(finish.back()["params"]["state"]["done"], keys.size()) << finish.back().dump();
  // A rerun of a finished campaign runs nothing.
  server_.reset_hits();
  const BelayRun again = run_belay(run_args(campaign), dir_.path(), seconds(60));
  EXPECT_EQ(again.exit_code, 0) << again.describe;
  EXPECT_TRUE(server_.all_hits().empty());
}

TEST_F(CampaignRunner, CorruptStateIsAClearErrorAndLeftUntouched) {
  const std::string campaign = write_campaign(kSlowVisit, {"a"});
  fs::create_directories(state_);
  const std::string db = state_ + "/belay.db";
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 251);
  std::ofstream(db, std::ios::binary) << garbage;
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(30));
  EXPECT_EQ(run.exit_code, 2) << run.describe;
  EXPECT_THAT(run.err, ::testing::HasSubstr(db)) << run.err;
  EXPECT_EQ(file_bytes(db), garbage) << "the state file was changed";
  EXPECT_EQ(server_.hits("a"), 0);
  EXPECT_TRUE(processes_mentioning(state_).empty());
}

TEST_F(CampaignRunner, StateOfAnotherCampaignIsRefusedAndLeftUntouched) {
  const std::string first = write_campaign(kSlowVisit, {"a"});
  const BelayRun setup = run_belay(run_args(first), dir_.path(), seconds(60));
  ASSERT_EQ(setup.exit_code, 0) << setup.describe;
  const std::string db = state_ + "/belay.db";
  const std::string before = file_bytes(db);
  const bool wal_before = fs::exists(db + "-wal");

  std::string other = kSlowVisit;
  other.replace(other.find("\"resume\""), 8, "\"other\"");
  const std::string second = dir_.write("campaign/other.lua", other);
  server_.reset_hits();
  const BelayRun run = run_belay(run_args(second), dir_.path(), seconds(30));
  EXPECT_EQ(run.exit_code, 2) << run.describe;
  EXPECT_THAT(run.err, ::testing::HasSubstr("resume")) << run.err;
  EXPECT_THAT(run.err, ::testing::HasSubstr("other")) << run.err;
  EXPECT_EQ(file_bytes(db), before) << "the state file was changed";
  EXPECT_EQ(fs::exists(db + "-wal"), wal_before);
  EXPECT_TRUE(server_.all_hits().empty());
  expect_no_browser_left();
}

// Two profiles; "bad" is given a page where the selector never appears. It
// fails past its streak and pauses; "good" finishes every other item. The
// pause is durable: a second run starts with "bad" still paused. Both
// browsers launch at once, but under ASan on a loaded machine "bad"'s can
// come up after "good" has taken all but one item (CI saw it), so "good" waits (a chunk-level count
// both profiles' runs share) until "bad" has started two; the rerun starts that count at two, since
// "bad" is paused then.
TEST_F(CampaignRunner, AFailingProfilePausesWhileTheOtherFinishes) {
  const std::string source_template = R"(local bad_started = BAD_STARTED
return {
  name = "two",
  items = "items.jsonl",
  profiles = { "good", "bad" },
  ladder = { steps = {} },
  retry = { attempts = 1 },
  pause = { max_error_streak = 1, ms = 600000 },
  run = function(page, item, ctx)
    page:navigate(item.url)
    if ctx.profile == "bad" then
      bad_started = bad_started + 1
      page:wait_for("#never-there", { timeout = 300 })
    end
    local waited = 0
    while bad_started < 2 and waited < 60000 do
      belay.sleep(50)
      waited = waited + 50
    end
    belay.sleep(100)
    return { by = ctx.profile }
  end,
}
)";
  auto source_starting_at = [&](const char* count) {
    std::string text = source_template;
    text.replace(text.find("BAD_STARTED"), 11, count);
    return text;
  };
  std::vector<std::string> keys;
  for (int i = 1; i <= 12; ++i) keys.push_back("i" + std::to_string(i));
  const std::string campaign = write_campaign(source_starting_at("0"), keys);
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(120));
  EXPECT_EQ(run.exit_code, 1) << "items failed\n" << run.describe;
  auto events = read_events(events_path());
  const std::string log = names(events);

  const auto pauses = of_event(events, "pause");
  ASSERT_EQ(pauses.size(), 1u) << log;
  EXPECT_EQ(pauses[0]["profile"], "bad");
  EXPECT_EQ(pauses[0]["params"]["reason"], "error_streak");
  EXPECT_EQ(pauses[0]["params"]["error_streak"], 2);
  size_t bad_failed = 0;
  size_t good_ok = 0;
  bool paused = false;
  for (const auto& e : events) {
    const std::string name = e.value("event", "");
    const std::string profile = e["profile"].is_string() ? e["profile"].get<std::string>() : "";
    if (name == "pause") paused = true;
    if (name == "item_start" && profile == "bad") {
      EXPECT_FALSE(paused) << "a paused profile took an item: " << e.dump();
    }
    if (name == "item_failed") {
      EXPECT_EQ(profile, "bad") << e.dump();
      EXPECT_EQ(e["params"]["kind"], "not_found") << e.dump();
      ++bad_failed;
    }
    if (name == "item_ok") {
      EXPECT_EQ(profile, "good") << e.dump();
      ++good_ok;
    }
  }
  EXPECT_EQ(bad_failed, 2u) << log;
  EXPECT_EQ(good_ok, keys.size() - 2) << log;
  expect_no_browser_left();

  // The next run: the failed items are tried again, by "good" alone.
  const size_t before = events.size();
  dir_.write("campaign/campaign.lua", source_starting_at("2"));
  const BelayRun rerun = run_belay(run_args(campaign), dir_.path(), seconds(120));
  EXPECT_EQ(rerun.exit_code, 0) << rerun.describe;
  events = read_events(events_path());
  std::vector<json> second(events.begin() + static_cast<long>(before), events.end());
  const auto persisted = of_event(second, "pause");
  ASSERT_EQ(persisted.size(), 1u) << names(second);
  EXPECT_EQ(persisted[0]["profile"], "bad");
  EXPECT_EQ(persisted[0]["params"]["reason"], "persisted");
  for (const auto& e : of_event(second, "item_start")) EXPECT_EQ(e["profile"], "good") << e.dump();
  EXPECT_EQ(of_event(second, "item_ok").size(), 2u) << names(second);
  for (const auto& e : of_event(second, "browser_launch")) {
    EXPECT_EQ(e["profile"], "good") << "a paused profile launched its browser: " << e.dump();
  }
  expect_no_browser_left();
}

// The events of one recovered item: item_start, retry..., recover..., item_ok
// (DESIGN.md "Durable state"). The item fails its first three tries with a
// real context_destroyed (the page navigates away while the script reads
// it), keeps its checkpoint across tries, and is recovered by the ladder's
// second step. The page leaves 600 ms after it was served: late enough that
// page:navigate has seen it load even on a loaded machine.
TEST_F(CampaignRunner, ARecoveredItemLogsRetryThenRecoverThenOk) {
  const char* source = R"lua(return {
  name = "recovered",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 2, base_ms = 50, jitter = 0, kinds = { "context_destroyed" } },
  ladder = {
    backoff_ms = 10,
    steps = {
      { name = "first", run = function(page, ctx) ctx:event("step", { n = 1 }) end },
      { name = "second", run = function(page, ctx) ctx:event("step", { n = 2 }) end },
      { name = "third", run = function(page, ctx) ctx:event("step", { n = 3 }) end },
    },
  },
  run = function(page, item, ctx)
    page:navigate(item.url)
    local tries = tonumber(page:text("#count"))
    ctx:checkpoint({ seen = ((ctx.saved or {}).seen or 0) + 1 })
    if tries <= 3 then
      -- The navigation starts inside the evaluation it destroys, so it cannot
      -- land before the evaluation begins, however slow the machine.
      page:evaluate([[setTimeout(() => { location.href = "/page2" }, 100);
        new Promise(r => setTimeout(() => r(document.title), 4000))]])
    end
    return { tries = tries, seen = ctx.saved.seen, attempt = ctx.attempt }
  end,
}
)lua";
  const std::string campaign = dir_.write("campaign/campaign.lua", source);
  dir_.write("campaign/items.jsonl",
             json{{"id", "r"}, {"url", server_.url("/item?key=r")}}.dump() + "\n");
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(90));
  ASSERT_EQ(run.exit_code, 0) << run.describe;
  const auto events = read_events(events_path());
  std::vector<std::string> sequence;
  for (const auto& e : events) {
    const std::string name = e.value("event", "");
    if (name == "item_start" || name == "retry" || name == "recover" || name == "item_ok" ||
        name == "item_failed") {
      sequence.push_back(name +
                         (e["outcome"].is_string() ? ":" + e["outcome"].get<std::string>() : ""));
    }
  }
  const std::vector<std::string> expected = {"item_start", "retry", "recover:fail", "recover:ok",
                                             "item_ok:ok"};
  EXPECT_EQ(sequence, expected) << names(events);
  const auto retry = of_event(events, "retry");
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0]["params"]["kind"], "context_destroyed") << retry[0].dump();
  EXPECT_EQ(retry[0]["params"]["wait_ms"], 50) << retry[0].dump();
  const auto recover = of_event(events, "recover");
  ASSERT_EQ(recover.size(), 2u);
  EXPECT_EQ(recover[0]["params"]["name"], "first");
  EXPECT_EQ(recover[1]["params"]["name"], "second");
  EXPECT_EQ(recover[1]["params"]["step"], 2);
  const auto ok = of_event(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]["params"]["result"]["tries"], 4) << ok[0].dump();
  EXPECT_EQ(ok[0]["params"]["result"]["seen"], 4) << "ctx.saved carried across tries";
  EXPECT_EQ(ok[0]["params"]["result"]["attempt"], 4);
  EXPECT_EQ(ok[0]["params"]["attempt"], 4);
  EXPECT_EQ(server_.hits("r"), 4);
  for (const auto& e : events) {
    for (const char* field :
         {"ts", "campaign", "profile", "session", "item", "event", "params", "outcome", "dur_ms"}) {
      EXPECT_TRUE(e.contains(field)) << field << " missing in " << e.dump();
    }
  }
  expect_no_browser_left();
}

// Items are shared out: with three profiles, every profile does some, and
// each item is done exactly once.
// A try that begins with no page (the script closed it; or the browser died
// between host.ready() and the try, as a chaos test once caught) fails as
// target_closed, so retries and the ladder handle it. It was a nil `page`
// and a `script` error that failed the item outright.
TEST_F(CampaignRunner, ATryWithNoPageIsTargetClosedAndTheLadderRecoversIt) {
  const std::string campaign = write_campaign(R"(return {
  name = "no-page",
  items = "items.jsonl",
  retry = { attempts = 2, base_ms = 10, kinds = { "target_closed" } },
  ladder = { backoff_ms = 10, steps = {
    { name = "reopen", run = function(page, ctx) ctx:reopen_page() end },
  } },
  run = function(page, item, ctx)
    if ctx.attempt == 1 then
      page:close()
      belay.error("target_closed", "closed it myself")
    end
    page:navigate(item.url)
    return { attempt = ctx.attempt }
  end,
}
)",
                                              {"a"});
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(90));
  auto events = read_events(events_path());
  const std::string log = names(events);
  EXPECT_EQ(run.exit_code, 0) << log << "\n" << run.describe;
  const auto retries = of_event(events, "retry");
  ASSERT_EQ(retries.size(), 1u) << log;
  // Try 2 found no page: target_closed, which the ladder's step answers,
  // and try 3 runs on the reopened page. Without the fix try 2 was a
  // `script` error (a nil page) and the item failed.
  const auto recovered = of_event(events, "recover");
  ASSERT_EQ(recovered.size(), 1u) << log;
  EXPECT_EQ(recovered[0]["outcome"], "ok") << log;
  EXPECT_TRUE(of_event(events, "item_failed").empty()) << log;
  const auto ok = of_event(events, "item_ok");
  ASSERT_EQ(ok.size(), 1u) << log;
  EXPECT_EQ(ok[0]["params"]["result"]["attempt"], 3) << log;
}

// A popup an item opened is closed when the item ends, unless its script
// kept it (page:keep): the next item starts with the pages it expects.
TEST_F(CampaignRunner, PopupsCloseWithTheirItemUnlessKept) {
  const std::string campaign = write_campaign(R"(return {
  name = "popups",
  items = "items.jsonl",
  run = function(page, item, ctx)
    page:navigate(item.url)
    local at_start = #ctx.browser:pages()
    if item.id ~= "c" then
      local popup = page:expect("popup", nil, function()
        page:evaluate("window.open('/page2'), 1")
      end)
      if item.id == "b" then popup:keep() end
    end
    return { at_start = at_start, at_end = #ctx.browser:pages() }
  end,
}
)",
                                              {"a", "b", "c"});
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(90));
  auto events = read_events(events_path());
  ASSERT_EQ(run.exit_code, 0) << names(events) << "\n" << run.describe;
  std::map<std::string, json> results;
  for (const auto& e : of_event(events, "item_ok")) {
    results[e["item"].get<std::string>()] = e["params"]["result"];
  }
  ASSERT_EQ(results.size(), 3u) << names(events);
  EXPECT_EQ(results["a"], json::parse(R"({"at_start": 1, "at_end": 2})"));
  EXPECT_EQ(results["b"], json::parse(R"({"at_start": 1, "at_end": 2})"));
  EXPECT_EQ(results["c"], json::parse(R"({"at_start": 2, "at_end": 2})"));
  expect_no_browser_left();
}

TEST_F(CampaignRunner, ProfilesShareTheItemsInParallel) {
  const char* source = R"(return {
  name = "parallel",
  items = "items.jsonl",
  profiles = { "a", "b", "c" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    belay.sleep(200)
    return { by = ctx.profile }
  end,
}
)";
  std::vector<std::string> keys;
  for (int i = 1; i <= 15; ++i) keys.push_back("p" + std::to_string(i));
  const std::string campaign = write_campaign(source, keys);
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(120));
  ASSERT_EQ(run.exit_code, 0) << run.describe;
  std::map<std::string, int> by_profile;
  for (const auto& e : of_event(read_events(events_path()), "item_ok")) {
    ++by_profile[e["profile"].get<std::string>()];
  }
  EXPECT_EQ(by_profile.size(), 3u);
  for (const auto& key : keys) EXPECT_EQ(server_.hits(key), 1) << key;
  EXPECT_TRUE(fs::is_directory(state_ + "/profiles/a"));
  EXPECT_TRUE(fs::is_directory(state_ + "/profiles/c"));
  expect_no_browser_left();
}

// A changed items file is reported, and resume still follows keys.
TEST_F(CampaignRunner, ChangedItemsFileIsReported) {
  const std::string campaign = write_campaign(kSlowVisit, {"a", "b"});
  ASSERT_EQ(run_belay(run_args(campaign), dir_.path(), seconds(60)).exit_code, 0);
  write_campaign(kSlowVisit, {"a", "b", "c"});
  server_.reset_hits();
  const BelayRun run = run_belay(run_args(campaign), dir_.path(), seconds(60));
  EXPECT_EQ(run.exit_code, 0) << run.describe;
  const auto starts = of_event(read_events(events_path()), "run_start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1]["params"]["items_changed"], true) << starts[1].dump();
  EXPECT_EQ(starts[1]["params"]["added"], 1);
  EXPECT_THAT(run.err, ::testing::HasSubstr("changed")) << run.err;
  EXPECT_EQ(server_.hits("a"), 0);
  EXPECT_EQ(server_.hits("c"), 1);
}

}  // namespace
}  // namespace belay::test
