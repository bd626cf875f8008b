// `belay run` end to end: the real binary, a real Chromium, the fixture
// server for pages and execution counters, and events.jsonl as the record
// (DESIGN.md "Durable state", "Command line").

#include "support/belay_process.hpp"
#include "support/chromium.hpp"
#include "support/fixture_server.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// items.jsonl: one {"id": K, "url": fixture /item?key=K} per key.
std::string items_jsonl(const BackgroundFixtureServer& server,
                        const std::vector<std::string>& keys) {
  std::string text;
  for (const auto& key : keys) {
    text += json{{"id", key}, {"url", server.url("/item?key=" + key)}}.dump() + "\n";
  }
  return text;
}

// Visits each item's URL and returns what the page says about it.
const char* kVisitCampaign = R"(return {
  name = "visit",
  items = "items.jsonl",
  profiles = { "p1" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { key = page:text("#key"), count = tonumber(page:text("#count")),
             index = ctx.index, title = page:title() }
  end,
}
)";

std::vector<std::string> event_names(const std::vector<json>& events) {
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.value("event", ""));
  return names;
}

// The run's skeleton: run_start, item_start/item_ok/item_failed, run_finish.
std::vector<std::string> skeleton(const std::vector<json>& events) {
  static const std::set<std::string> kept = {"run_start", "item_start", "item_ok", "item_failed",
                                             "run_finish"};
  std::vector<std::string> out;
  for (const auto& e : events) {
    const std::string name = e.value("event", "");
    if (kept.count(name) > 0) {
      out.push_back(e["item"].is_string() ? name + ":" + e["item"].get<std::string>() : name);
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

bool has_browser_launch(const std::string& events_path) {
  if (!fs::exists(events_path)) return false;
  for (const auto& e : read_events(events_path)) {
    if (e.value("event", "") == "browser_launch") return true;
  }
  return false;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class CliRun : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = dir_.file("state");
    campaign_dir_ = dir_.file("campaign");
    fs::create_directories(campaign_dir_);
  }

  std::string events_path() const { return state_ + "/events.jsonl"; }

  std::string write_campaign(const std::string& source, const std::vector<std::string>& keys) {
    dir_.write("campaign/items.jsonl", items_jsonl(server_, keys));
    return dir_.write("campaign/campaign.lua", source);
  }

  std::vector<std::string> run_args(const std::string& campaign,
                                    std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run",      campaign,      "--state",    state_,
                                     "--chrome", chrome_path(), "--no-reload"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Runs belay and, while it runs, records every process other than belay
  // whose command line mentions the state dir (a browser it launched).
  // The program itself (argv[0]) is a browser, not merely an argument.
  static bool is_browser_command(const std::string& cmdline) {
    const std::string program = cmdline.substr(0, cmdline.find_first_of(" \0", 0));
    return program.find("chrom") != std::string::npos;
  }

  BelayRun run_watching_processes(const std::vector<std::string>& args, std::set<pid_t>* browsers,
                                  std::set<std::string>* cmdlines = nullptr,
                                  BelayOptions options = {}) {
    BelayProcess belay(args, dir_.path(), std::move(options));
    const auto deadline = std::chrono::steady_clock::now() + seconds(90);
    while (belay.running() && std::chrono::steady_clock::now() < deadline) {
      for (pid_t pid : processes_mentioning(state_, belay.pid())) {
        // Under ASan, LeakSanitizer's tracer is a clone of belay with the
        // same command line: only a browser counts as a browser.
        const std::string cmdline = cmdline_of(pid);
        if (!is_browser_command(cmdline)) continue;
        browsers->insert(pid);
        if (cmdlines != nullptr) cmdlines->insert(cmdline);
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    belay.wait(seconds(5));
    for (pid_t pid : processes_mentioning(state_, belay.pid())) {
      if (is_browser_command(cmdline_of(pid))) browsers->insert(pid);
    }
    return BelayRun{belay.exit_code(), belay.timed_out(), belay.out(),
                    belay.err(),       belay.seconds(),   belay.describe()};
  }

  TempDir dir_;
  BackgroundFixtureServer server_;
  std::string state_;
  std::string campaign_dir_;
};

TEST_F(CliRun, SmallCampaignRunsEveryItemOnceAndLogsIt) {
  const std::vector<std::string> keys = {"a", "b", "c"};
  const std::string campaign = write_campaign(kVisitCampaign, keys);
  const int64_t before_ms = system_now_ms();
  // A local time zone far from UTC: a ts written in local time shows.
  BelayOptions options;
  options.env = {{"TZ", "EST5"}};
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90), options);
  const int64_t after_ms = system_now_ms();
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;

  for (const auto& key : keys) EXPECT_EQ(server_.hits(key), 1) << "item " << key;

  // Every line: JSON with exactly DESIGN.md's keys in DESIGN.md's order.
  const std::vector<std::string> expected_keys = {"ts",    "campaign", "profile", "session", "item",
                                                  "event", "params",   "outcome", "dur_ms"};
  const auto lines = read_complete_lines(events_path());
  ASSERT_FALSE(lines.empty());
  int64_t previous_ts = 0;
  for (const auto& line : lines) {
    SCOPED_TRACE(line);
    auto parsed = nlohmann::ordered_json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded());
    ASSERT_TRUE(parsed.is_object());
    std::vector<std::string> keys_in_order;
    for (auto it = parsed.begin(); it != parsed.end(); ++it) keys_in_order.push_back(it.key());
    EXPECT_EQ(keys_in_order, expected_keys);
    ASSERT_TRUE(parsed["ts"].is_string());
    const auto ts = parse_iso8601_ms(parsed["ts"].get<std::string>());
    ASSERT_TRUE(ts.has_value()) << "ts is not ISO 8601 UTC with milliseconds";
    EXPECT_GE(*ts, before_ms - 2000) << "ts is before the run started (local time?)";
    EXPECT_LE(*ts, after_ms + 2000) << "ts is after the run ended (local time?)";
    EXPECT_GE(*ts, previous_ts) << "ts goes backwards";
    previous_ts = *ts;
    EXPECT_EQ(parsed["campaign"], "visit");
    EXPECT_TRUE(parsed["event"].is_string());
    EXPECT_TRUE(parsed["params"].is_object());
  }

  const auto events = read_events(events_path());
  EXPECT_EQ(join(skeleton(events)),
            "run_start item_start:a item_ok:a item_start:b item_ok:b item_start:c item_ok:c "
            "run_finish")
      << join(event_names(events));
  EXPECT_EQ(events.front().value("event", ""), "run_start");
  EXPECT_EQ(events.back().value("event", ""), "run_finish");
  EXPECT_EQ(events.back().value("outcome", ""), "ok");
  int index = 0;
  for (const auto& e : events) {
    if (e.value("event", "") != "item_ok") continue;
    ++index;
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(e["outcome"], "ok");
    EXPECT_EQ(e["profile"], "p1");
    EXPECT_TRUE(e["dur_ms"].is_number_unsigned());
    const json& result = e["params"]["result"];
    EXPECT_EQ(result["key"], e["item"]);
    EXPECT_EQ(result["count"], 1) << "the page saw an earlier visit";
    EXPECT_EQ(result["index"], index);
    EXPECT_EQ(result["title"], "Item " + e["item"].get<std::string>());
  }
  EXPECT_EQ(index, 3);
}

TEST_F(CliRun, ItemThatRaisesIsExitOneWithItemFailed) {
  const std::string campaign = write_campaign(R"(return {
  name = "raises",
  items = "items.jsonl",
  run = function(page, item, ctx)
    page:navigate(item.url)
    if item.id == "b" then error("no luck with b") end
    return { ok = true }
  end,
}
)",
                                              {"a", "b", "c"});
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90));
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  const auto events = read_events(events_path());
  EXPECT_EQ(join(skeleton(events)),
            "run_start item_start:a item_ok:a item_start:b item_failed:b item_start:c item_ok:c "
            "run_finish")
      << join(event_names(events));
  bool found = false;
  for (const auto& e : events) {
    if (e.value("event", "") != "item_failed") continue;
    found = true;
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(e["item"], "b");
    EXPECT_EQ(e["outcome"], "fail");
    EXPECT_EQ(e["params"]["kind"], "script");
    EXPECT_EQ(e["params"]["op"], "run") << "a plain error() names no call: it is the run's";
    ASSERT_TRUE(e["params"]["message"].is_string());
    EXPECT_THAT(e["params"]["message"].get<std::string>(), ::testing::HasSubstr("no luck with b"));
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(events.back().value("outcome", ""), "fail");
  for (const std::string key : {"a", "b", "c"}) EXPECT_EQ(server_.hits(key), 1) << key;
}

TEST_F(CliRun, BadTransportIsUsageErrorAndLaunchesNoBrowser) {
  const std::string campaign = write_campaign(kVisitCampaign, {"a"});
  std::set<pid_t> browsers;
  const BelayRun r =
      run_watching_processes(run_args(campaign, {"--transport", "carrier-pigeon"}), &browsers);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("--transport")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("carrier-pigeon")) << r.describe;
  EXPECT_TRUE(browsers.empty()) << "a browser was launched: pid " << *browsers.begin();
  EXPECT_FALSE(fs::exists(state_ + "/profiles")) << "a user-data-dir was made";
  EXPECT_FALSE(has_browser_launch(events_path()));
  EXPECT_EQ(server_.hits("a"), 0);
}

TEST_F(CliRun, MissingCampaignAndUnknownOptionAreUsageErrors) {
  const BelayRun missing =
      run_belay({"run", dir_.file("nope.lua"), "--state", state_}, dir_.path(), seconds(30));
  EXPECT_EQ(missing.exit_code, 2) << missing.describe;
  EXPECT_THAT(missing.err, ::testing::HasSubstr("nope.lua")) << missing.describe;

  const std::string campaign = write_campaign(kVisitCampaign, {"a"});
  const BelayRun unknown =
      run_belay({"run", campaign, "--state", state_, "--frobnicate"}, dir_.path(), seconds(30));
  EXPECT_EQ(unknown.exit_code, 2) << unknown.describe;
  EXPECT_THAT(unknown.err, ::testing::HasSubstr("--frobnicate")) << unknown.describe;
  EXPECT_EQ(server_.hits("a"), 0);
}

TEST_F(CliRun, ConfigErrorIsExitTwoAndLaunchesNoBrowser) {
  const std::string campaign = write_campaign(R"(return {
  name = "bad",
  items = "items.jsonl",
  retyr = { attempts = 3 },
  run = function(page, item, ctx) page:navigate(item.url) end,
}
)",
                                              {"a"});
  std::set<pid_t> browsers;
  const BelayRun r = run_watching_processes(run_args(campaign), &browsers);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr(campaign + ":4:")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("'retyr'")) << r.describe;
  EXPECT_TRUE(browsers.empty()) << "a browser was launched: pid " << *browsers.begin();
  EXPECT_FALSE(fs::exists(state_ + "/profiles")) << "a user-data-dir was made";
  EXPECT_FALSE(has_browser_launch(events_path()));
  EXPECT_EQ(server_.hits("a"), 0);
}

// The campaign's dialogs policy answers what no handler does, and every
// answer is a `dialog` event with who gave it: here the policy accepts the
// confirm, and a handler dismisses the second one.
TEST_F(CliRun, DialogsAreAnsweredByThePolicyAndLogged) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "dialogs",
  items = "items.jsonl",
  dialogs = "accept",
  run = function(page, item, ctx)
    page:navigate(item.url)
    local by_policy = page:evaluate("confirm('proceed?')")
    page:on("dialog", function(d) d:dismiss() end)
    local by_handler = page:evaluate("confirm('really?')")
    return { by_policy = by_policy, by_handler = by_handler }
  end,
}
)LUA",
                                              {"a"});
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(events_path());
  std::vector<json> dialogs;
  size_t done = 0;
  for (const auto& e : events) {
    if (e.value("event", "") == "dialog") dialogs.push_back(e);
    if (e.value("event", "") == "item_ok") ++done;
  }
  ASSERT_EQ(dialogs.size(), 2u) << join(event_names(events));
  EXPECT_EQ(dialogs[0]["item"], "a");
  EXPECT_EQ(dialogs[0]["params"]["type"], "confirm");
  EXPECT_EQ(dialogs[0]["params"]["message"], "proceed?");
  EXPECT_EQ(dialogs[0]["params"]["answer"], "accept");
  EXPECT_EQ(dialogs[0]["params"]["by"], "policy");
  EXPECT_EQ(dialogs[1]["params"]["answer"], "dismiss");
  EXPECT_EQ(dialogs[1]["params"]["by"], "handler");
  EXPECT_EQ(done, 1u);
  const BelayRun results =
      run_belay({"results", "--state", state_, "--json"}, dir_.path(), seconds(30));
  EXPECT_THAT(results.out, ::testing::HasSubstr("\"by_policy\":true")) << results.describe;
  EXPECT_THAT(results.out, ::testing::HasSubstr("\"by_handler\":false")) << results.describe;
}

// Each item's downloads land in a folder of its own, named by its key made
// a plain folder name ("b/../c" would otherwise climb out).
TEST_F(CliRun, DownloadsLandInTheItemsOwnFolder) {
  const std::string campaign = write_campaign(R"LUA(return {
  name = "downloads",
  items = "items.jsonl",
  run = function(page, item, ctx)
    page:navigate(item.url:match("^(http://[^/]+)/") .. "/downloads")
    local d = page:expect("download", { timeout = 20000 }, function() page:click("#file") end)
    return { path = d.path }
  end,
}
)LUA",
                                              {"a", "b/../c"});
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_TRUE(std::filesystem::exists(state_ + "/downloads/a/report.json"));
  EXPECT_TRUE(std::filesystem::exists(state_ + "/downloads/b_.._c/report.json"));
  EXPECT_FALSE(std::filesystem::exists(state_ + "/downloads/c"));
}

TEST_F(CliRun, ADialogsPolicyThatIsNoneOfTheTwoIsAConfigError) {
  const std::string campaign = write_campaign(R"(return {
  name = "bad",
  items = "items.jsonl",
  dialogs = "ignore",
  run = function(page, item, ctx) page:navigate(item.url) end,
}
)",
                                              {"a"});
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("dialogs")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("\"dismiss\" or \"accept\"")) << r.describe;
  EXPECT_EQ(server_.hits("a"), 0);
}

TEST_F(CliRun, WebSocketTransportRunsTheCampaign) {
  const std::vector<std::string> keys = {"a", "b"};
  const std::string campaign = write_campaign(kVisitCampaign, keys);
  std::set<pid_t> browsers;
  std::set<std::string> cmdlines;
  const BelayRun r =
      run_watching_processes(run_args(campaign, {"--transport", "ws"}), &browsers, &cmdlines);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  for (const auto& key : keys) EXPECT_EQ(server_.hits(key), 1) << key;
  const auto events = read_events(events_path());
  EXPECT_EQ(join(skeleton(events)),
            "run_start item_start:a item_ok:a item_start:b item_ok:b run_finish")
      << join(event_names(events));
  // The browser really was launched for a websocket, not a pipe.
  bool port = false;
  bool pipe = false;
  for (const auto& c : cmdlines) {
    port = port || contains(c, "--remote-debugging-port");
    pipe = pipe || contains(c, "--remote-debugging-pipe");
  }
  EXPECT_TRUE(port) << "no browser with --remote-debugging-port seen";
  EXPECT_FALSE(pipe) << "--transport ws launched a pipe browser";
  EXPECT_TRUE(wait_no_process_mentioning(state_, seconds(5)).empty())
      << "a browser outlived the run";
}

TEST_F(CliRun, SigtermMidRunExitsPromptlyAndLeavesNoBrowser) {
  // Each item waits far longer than the test is willing to: only a shutdown
  // that cancels the call in flight ends the run in time.
  const std::string campaign = write_campaign(R"(return {
  name = "long",
  items = "items.jsonl",
  run = function(page, item, ctx)
    page:navigate(item.url)
    belay.sleep(60000)
    return { ok = true }
  end,
}
)",
                                              {"a", "b", "c"});
  BelayProcess belay(run_args(campaign), dir_.path());
  const auto started = wait_for_event(
      events_path(), [](const json& e) { return e.value("event", "") == "item_start"; },
      seconds(60), &belay);
  ASSERT_TRUE(started.has_value()) << belay.describe();
  std::this_thread::sleep_for(milliseconds(500));  // into its sleep
  const auto browsers = processes_mentioning(state_, belay.pid());
  ASSERT_FALSE(browsers.empty()) << "no browser with the state dir on its command line";

  const auto signalled = std::chrono::steady_clock::now();
  belay.send_signal(SIGTERM);
  const bool exited = belay.wait_for_exit(seconds(10));
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  ASSERT_TRUE(exited) << "belay still runs 10 s after SIGTERM\n" << belay.describe();
  std::cout << "[ sigterm  ] belay exited " << took << " s after SIGTERM\n";
  EXPECT_LT(took, 5.0) << belay.describe();
  EXPECT_EQ(belay.term_signal(), 0) << "belay died of the signal instead of shutting down";
  // Not every item was done: that is not a success.
  EXPECT_EQ(belay.exit_code(), 1) << belay.describe();

  const auto left = wait_no_process_mentioning(state_, seconds(5));
  for (pid_t pid : left) ADD_FAILURE() << "left alive: " << pid << " " << cmdline_of(pid);
  const auto events = read_events(events_path());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().value("event", ""), "run_finish") << join(event_names(events));
  EXPECT_EQ(server_.hits("b"), 0) << "an item started after SIGTERM";
}

// Exit 0 means "all items done" (DESIGN.md "Command line"). A run stopped
// before its first item did none of them.
TEST_F(CliRun, SigtermDuringBrowserLaunchIsNotASuccess) {
  const std::string campaign = write_campaign(kVisitCampaign, {"a", "b"});
  BelayProcess belay(run_args(campaign), dir_.path());
  ASSERT_TRUE(wait_for_event(
      events_path(), [](const json& e) { return e.value("event", "") == "run_start"; }, seconds(30),
      &belay))
      << belay.describe();
  belay.send_signal(SIGTERM);  // the browser takes a second or more to launch
  ASSERT_TRUE(belay.wait_for_exit(seconds(20))) << belay.describe();
  const auto events = read_events(events_path());
  ASSERT_FALSE(events.empty());
  const std::string log = join(event_names(events));
  ASSERT_EQ(events.front().value("event", ""), "run_start") << log;
  EXPECT_EQ(server_.hits("b"), 0) << "an item started after SIGTERM";
  EXPECT_EQ(belay.term_signal(), 0) << belay.describe();
  EXPECT_EQ(belay.exit_code(), 1) << "no item was done\n" << log << "\n" << belay.describe();
  EXPECT_EQ(events.back().value("event", ""), "run_finish") << log;
  EXPECT_NE(events.back().value("outcome", ""), "ok") << events.back().dump();
  EXPECT_TRUE(wait_no_process_mentioning(state_, seconds(5)).empty());
}

TEST_F(CliRun, StateDirIsPrivateEvenUnderUmaskZero) {
  const std::string campaign = write_campaign(kVisitCampaign, {"a"});
  state_ = dir_.file("deep/er/state");  // parents to create too
  BelayOptions options;
  options.umask = 0;
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90), options);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_EQ(mode_of(state_), 0700u) << std::oct << mode_of(state_);
  EXPECT_EQ(mode_of(events_path()), 0600u) << std::oct << mode_of(events_path());
  EXPECT_EQ(mode_of(state_ + "/screenshots"), 0700u)
      << std::oct << mode_of(state_ + "/screenshots");
}

TEST_F(CliRun, RelativeScreenshotPathLandsInStateScreenshots) {
  const std::string campaign = write_campaign(R"(return {
  name = "shots",
  items = "items.jsonl",
  run = function(page, item, ctx)
    page:navigate(item.url)
    page:screenshot("shot-" .. item.id .. ".png")
    return { ok = true }
  end,
}
)",
                                              {"a"});
  const std::string cwd = dir_.file("cwd");
  fs::create_directories(cwd);
  BelayOptions options;
  options.cwd = cwd;
  const BelayRun r = run_belay(run_args(campaign), dir_.path(), seconds(90), options);
  ASSERT_FALSE(r.timed_out) << r.describe;
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const std::string shot = state_ + "/screenshots/shot-a.png";
  ASSERT_TRUE(fs::exists(shot)) << r.describe;
  std::ifstream in(shot, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << "not a PNG";
  EXPECT_FALSE(fs::exists(cwd + "/shot-a.png"));
  EXPECT_FALSE(fs::exists(campaign_dir_ + "/shot-a.png"));
}

}  // namespace
}  // namespace belay::test
