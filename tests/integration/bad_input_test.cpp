// Bad input to the real binary (docs/bad-input.md): options, state
// directories and hot-reloaded edits that are wrong get a clear error and
// lose nothing. Most cases fail before any browser starts; the others run
// a real Chromium.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "chrome/host_marker.hpp"
#include "store/store.hpp"
#include "support/belay_process.hpp"
#include "support/chromium.hpp"
#include "support/lua_harness.hpp"
#include "support/state_files.hpp"

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// `n` items that each sleep `ms` (no page needed).
std::string sleepy_campaign(int n, int ms, const std::string& extra = "") {
  return extra +
         "-- bad input fixture\n"
         "local items = {}\n"
         "for i = 1, " +
         std::to_string(n) +
         " do items[i] = { id = \"i\" .. i } end\n"
         "return {\n"
         "  name = \"sleepy\",\n"
         "  items = items,\n"
         "  run = function(page, item, ctx) belay.sleep(" +
         std::to_string(ms) +
         ") return {} end,\n"
         "}\n";
}

class BadInputCli : public ::testing::Test {
 protected:
  void SetUp() override { campaign_ = dir_.write("campaign.lua", sleepy_campaign(2, 10)); }

  BelayRun belay(std::vector<std::string> args, seconds timeout = seconds(60)) {
    return run_belay(std::move(args), dir_.path(), timeout);
  }
  std::vector<std::string> run_args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run",      campaign_,     "--state",    state(),
                                     "--chrome", chrome_path(), "--no-reload"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::string state() const { return dir_.file("state"); }
  // The run stopped before any item ran: each of the `n` is pending still.
  void expect_all_pending(size_t n) const {
    auto store = store::open_sqlite_store(state(), store::OpenOptions{/*read_only=*/true});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    auto items = store.value()->items();
    ASSERT_TRUE(items.ok());
    ASSERT_EQ(items.value().size(), n);
    for (const auto& item : items.value()) {
      EXPECT_EQ(item.status, store::ItemStatus::pending) << item.key;
    }
  }

  TempDir dir_;
  std::string campaign_;
};

TEST_F(BadInputCli, NoOrUnknownSubcommandIsAUsageError) {
  const BelayRun none = belay({});
  EXPECT_EQ(none.exit_code, 2) << none.describe;
  EXPECT_THAT(none.err, ::testing::HasSubstr("A subcommand is required")) << none.describe;
  const BelayRun unknown = belay({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.describe;
  // Named, with the commands there are (CLI11 alone printed nothing).
  EXPECT_THAT(unknown.err, ::testing::HasSubstr("unknown command 'frobnicate'; the commands are "
                                                "run, check, status"))
      << unknown.describe;
  const BelayRun mistyped = belay({"statsu"});
  EXPECT_EQ(mistyped.exit_code, 2) << mistyped.describe;
  EXPECT_THAT(mistyped.err,
              ::testing::HasSubstr("unknown command 'statsu' (did you mean 'status'?)"))
      << mistyped.describe;
  const BelayRun help = belay({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.describe;
}

TEST_F(BadInputCli, HelpListsTheExitCodes) {
  const BelayRun help = belay({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.describe;
  EXPECT_THAT(help.out, ::testing::HasSubstr("Exit codes:\n"
                                             "  0  every item is done\n"
                                             "  1  some items failed, or a profile is fatal\n"
                                             "  2  a usage or configuration error"))
      << help.describe;
}

TEST_F(BadInputCli, ReplOfAMissingCampaignIsAUsageErrorAndStartsNoBrowser) {
  const BelayRun r = belay({"repl", dir_.file("nope.lua"), "--state", state()});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("nope.lua")) << r.describe;
  EXPECT_FALSE(fs::exists(state())) << r.describe;
}

TEST_F(BadInputCli, MissingChromeIsAUsageErrorAndWritesNothing) {
  const BelayRun r = belay({"run", campaign_, "--state", state(), "--chrome", dir_.file("nope")});
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("--chrome")) << r.describe;
  EXPECT_FALSE(fs::exists(state()));
}

TEST_F(BadInputCli, ConnectThatIsNotAWebSocketUrlIsAUsageErrorAndWritesNothing) {
  for (const char* url : {"http://127.0.0.1:9222", "127.0.0.1:9222", ""}) {
    SCOPED_TRACE(url);
    const BelayRun r = belay({"run", campaign_, "--state", state(), "--connect", url});
    EXPECT_EQ(r.exit_code, 2) << r.describe;
    EXPECT_THAT(r.err, ::testing::HasSubstr("must be a ws:// URL")) << r.describe;
    EXPECT_FALSE(fs::exists(state())) << r.describe;
  }
  const BelayRun repl = belay({"repl", "--state", state(), "--connect", "http://x"});
  EXPECT_EQ(repl.exit_code, 2) << repl.describe;
  EXPECT_THAT(repl.err, ::testing::HasSubstr("must be a ws:// URL")) << repl.describe;
}

// The endpoint is well formed but nobody answers: the profile is fatal at
// once (no restarts), exit 1, and the items stay pending for the next run.
TEST_F(BadInputCli, UnreachableConnectEndpointMakesTheProfileFatalAndKeepsTheItems) {
  const BelayRun r = belay(run_args({"--connect", "ws://127.0.0.1:1/devtools/browser/nobody"}));
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("ws://127.0.0.1:1/devtools/browser/nobody"))
      << r.describe;
  expect_all_pending(2);
}

TEST_F(BadInputCli, ChromeThatIsNotABrowserMakesTheProfileFatalAndKeepsTheItems) {
  const BelayRun r = belay({"run", campaign_, "--state", state(), "--chrome", "/bin/false"});
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("launch failed")) << r.describe;
  expect_all_pending(2);
  bool fatal = false;
  for (const auto& e : read_events(state() + "/events.jsonl")) {
    fatal = fatal || e.value("event", "") == "fatal";
    EXPECT_NE(e.value("event", ""), "item_failed") << e.dump();
  }
  EXPECT_TRUE(fatal);
}

TEST_F(BadInputCli, StateThatCannotBeADirectoryIsAUsageError) {
  dir_.write("state", "not a directory");
  const BelayRun r = belay(run_args());
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr(state())) << r.describe;
  EXPECT_EQ(file_bytes(state()), "not a directory");
}

TEST_F(BadInputCli, ScreenshotsOrEventsInTheWayAreAUsageError) {
  fs::create_directories(state());
  dir_.write("state/screenshots", "in the way");
  const BelayRun shots = belay(run_args());
  EXPECT_EQ(shots.exit_code, 2) << shots.describe;
  EXPECT_THAT(shots.err, ::testing::HasSubstr("screenshots")) << shots.describe;
  EXPECT_FALSE(fs::exists(state() + "/belay.db")) << shots.describe;

  fs::remove(state() + "/screenshots");
  fs::create_directories(state() + "/events.jsonl");
  const BelayRun events = belay(run_args());
  EXPECT_EQ(events.exit_code, 2) << events.describe;
  EXPECT_THAT(events.err, ::testing::HasSubstr("cannot open " + state() + "/events.jsonl"))
      << events.describe;
  EXPECT_FALSE(fs::exists(state() + "/belay.db")) << events.describe;
}

// A second `belay run` on a state a live run uses would put that run's item
// in flight back to pending and run it again: it is refused, untouched.
TEST_F(BadInputCli, SecondRunOnAStateInUseIsRefusedAndChangesNothing) {
  campaign_ = dir_.write("campaign.lua", sleepy_campaign(4, 700));
  BelayProcess first(run_args(), dir_.path());
  ASSERT_TRUE(wait_for_event(
      state() + "/events.jsonl", [](const json& e) { return e.value("event", "") == "item_start"; },
      seconds(60), &first))
      << first.describe();
  const BelayRun second = belay(run_args(), seconds(30));
  EXPECT_EQ(second.exit_code, 2) << second.describe;
  EXPECT_THAT(second.err, ::testing::HasSubstr("is in use by another belay run"))
      << second.describe;
  EXPECT_EQ(first.wait(seconds(90)), 0) << first.describe();

  std::map<std::string, int> starts;
  int run_starts = 0;
  for (const auto& e : read_events(state() + "/events.jsonl")) {
    if (e.value("event", "") == "item_start") ++starts[e["item"].get<std::string>()];
    if (e.value("event", "") == "run_start") {
      ++run_starts;
      EXPECT_EQ(e["params"].value("requeued", -1), 0) << e.dump();
    }
  }
  EXPECT_EQ(run_starts, 1);
  ASSERT_EQ(starts.size(), 4u);
  for (const auto& [item, n] : starts) EXPECT_EQ(n, 1) << item;
  // The lock goes with the run: the next one on the state may start.
  const BelayRun after = belay(run_args());
  EXPECT_EQ(after.exit_code, 0) << after.describe;
}

TEST_F(BadInputCli, ReplWithABrokenCampaignIsExitTwoNamingFileAndLine) {
  const std::string broken = dir_.write("broken.lua",
                                        "return {\n  items = {},\n  retry = 5,\n"
                                        "  run = function() end,\n}\n");
  const std::string cmd = "cd " + dir_.path() + " && " + belay_binary() + " repl " + broken +
                          " --state " + state() + " --chrome " + chrome_path() +
                          " < /dev/null > out.txt 2> err.txt";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string err = file_bytes(dir_.file("err.txt"));
  EXPECT_THAT(err, ::testing::HasSubstr(broken + ":3: field 'retry' must be a table")) << err;
}

TEST_F(BadInputCli, AttachToASocketLeftByADeadRunIsAClearError) {
  fs::create_directories(state());
  ASSERT_TRUE(leave_stale_socket(state() + "/control.sock"));
  const BelayRun r = belay({"attach", "--state", state()}, seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("is left from a run that is gone")) << r.describe;
}

// What answers on control.sock may be no belay at all: replies of the wrong
// shape are read as absent, never thrown.
TEST_F(BadInputCli, AttachToAPeerThatAnswersWithWrongTypesDoesNotCrash) {
  fs::create_directories(state());
  const std::string server = dir_.write("peer.py", R"(import os, socket, sys
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path); s.listen(1)
open(path + ".ready", "w").close()
c, _ = s.accept()
f = c.makefile('rwb')
if mode == "refuse":
    f.write(b'{"error": 5}\n'); f.flush()
else:
    f.write(b'{"hello": "belay"}\n'); f.flush()
    for _ in range(2):
        if not f.readline(): break
        f.write(b'{"print": 5}\n{"id": 1, "ok": "yes", "text": 7}\n{"id": 1, "candidates": 3}\n'
                b'{"id": 2, "ok": true, "text": ["x"]}\n{"ok": false, "error": {}}\n')
        f.flush()
c.close()
)");
  for (const std::string mode : {"refuse", "garble"}) {
    SCOPED_TRACE(mode);
    const std::string path = state() + "/control.sock";
    fs::remove(path);
    fs::remove(path + ".ready");
    const std::string peer = "python3 " + server + " " + path + " " + mode + " &";
    ASSERT_EQ(std::system(peer.c_str()), 0);
    for (int i = 0; i < 500 && !fs::exists(path + ".ready"); ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    dir_.write("input.lua", "=1\n=2\n");
    const std::string cmd = "cd " + dir_.path() + " && timeout 30 " + belay_binary() +
                            " attach --state " + state() + " < input.lua > out.txt 2> err.txt";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << status;
    const int code = WEXITSTATUS(status);
    const std::string err = file_bytes(dir_.file("err.txt"));
    EXPECT_NE(code, 124) << "timed out\n" << err;
    EXPECT_LT(code, 128) << "killed by a signal\n" << err;
    EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("terminate called"))) << err;
    if (mode == "refuse") {
      EXPECT_EQ(code, 2) << err;
      EXPECT_THAT(err, ::testing::HasSubstr("the run closed the connection")) << err;
    }
  }
}

// --- environment
// -----------------------------------------------------------------

// A belay started from inside a belay-launched browser inherits that
// browser's marker; its own browsers must carry its own, or `belay cleanup`
// would take them for another host's.
TEST(BadInputEnv, InheritedMarkerVariablesAreReplacedInLaunchedBrowsers) {
  TempDir dir;
  const std::string campaign = dir.write("campaign.lua", sleepy_campaign(2, 1500));
  const std::string state = dir.file("state");
  BelayOptions options;
  options.env = {{"BELAY_HOST", "1:12345"},
                 {"BELAY_STATE", dir.file("elsewhere")},
                 {"BELAY_PROFILE", "stranger"}};
  BelayProcess run({"run", campaign, "--state", state, "--chrome", chrome_path(), "--no-reload"},
                   dir.path(), options);
  auto launch = wait_for_event(
      state + "/events.jsonl",
      [](const json& e) { return e.value("event", "") == "browser_launch"; }, seconds(60), &run);
  ASSERT_TRUE(launch) << run.describe();
  const pid_t browser = (*launch)["params"].value("pid", 0);
  ASSERT_GT(browser, 0) << launch->dump();
  auto marker = chrome::read_marker(browser);
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(marker->host_pid, run.pid());
  EXPECT_EQ(marker->state_dir, chrome::canonical_state_dir(state));
  EXPECT_EQ(marker->profile, "default");
  EXPECT_EQ(run.wait(seconds(60)), 0) << run.describe();
}

// --- hot reload
// ---------------------------------------------------------------------

// An edit whose error message is huge, or looks like "file:line:" with a
// line no int holds, is a failed reload like any other; the run goes on.
TEST(BadInputReload, HugeOrOddErrorMessagesInAnEditAreFailedReloadsNotACrash) {
  TempDir dir;
  const std::string campaign = dir.write("campaign.lua", sleepy_campaign(8, 400));
  const std::string state = dir.file("state");
  BelayProcess run({"run", campaign, "--state", state, "--chrome", chrome_path()}, dir.path());
  const std::string events = state + "/events.jsonl";
  ASSERT_TRUE(wait_for_event(
      events, [](const json& e) { return e.value("event", "") == "item_ok"; }, seconds(60), &run))
      << run.describe();
  auto is_reload = [](const json& e) { return e.value("event", "") == "reload"; };
  const std::vector<std::string> edits = {
      "error(string.rep('x', 300000))\n",
      "error('at:99999999999999: not a line', 0)\n",
      "error(':7: no file', 0)\n",
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    SCOPED_TRACE(edits[i].substr(0, 40));
    std::this_thread::sleep_for(milliseconds(150));
    dir.write("campaign.lua", sleepy_campaign(8, 400, edits[i]));
    auto found = wait_for_events(events, is_reload, i + 1, seconds(15), &run);
    ASSERT_EQ(found.size(), i + 1) << run.describe();
    EXPECT_EQ(found[i]["outcome"], "fail") << found[i].dump().substr(0, 300);
    EXPECT_TRUE(run.running()) << run.describe();
  }
  EXPECT_EQ(run.wait(seconds(60)), 0) << run.describe();
}

// --- script arguments
// ------------------------------------------------------------

class BadInputScript : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(BadInputScript);

// page:evaluate looks at the head of its source to tell a function from an
// expression; a long expression in parentheses must not overflow that look.
TEST_P(BadInputScript, LongParenthesizedEvaluateSourceIsEvaluatedNotACrash) {
  LuaHarness h(transport());
  auto r = h.run(R"(
    local big = string.rep("a", 300000)
    local object = page:evaluate('({ "s": "' .. big .. '" })')
    local text = page:evaluate('("' .. big .. '")')
    return { #object.s, #text }
  )");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), json::array({300000, 300000}));
}

}  // namespace
}  // namespace belay::test
