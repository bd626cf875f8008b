// The console's campaign functions (docs/repl.md): `belay repl CAMPAIGN.lua`
// (campaign, ladder(), ctx_of(), step(name)) and `belay attach` to a live
// `belay run` (reload(), use(p), browser_of(p), ctx_of(p), step(p, name),
// events(n), and the console leaving when the run ends). The real binaries,
// a real Chromium, fixture pages; mostly scripted (stdin not a terminal), as
// an operator's shell script would drive them.

#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"
#include "support/pty_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <regex>
#include <sstream>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// One scripted console: chunks from a file on stdin, results on stdout,
// errors on stderr, in `dir`; bounded by `timeout` (past it, killed by PID).
BelayRun run_scripted(const TempDir& dir, const std::string& name, const std::string& args,
                      const std::string& input, seconds timeout = seconds(100)) {
  BelayOptions options;
  options.cwd = dir.path();
  options.stdin_path = dir.write(name + ".lua", input);
  std::vector<std::string> argv;
  std::istringstream words(args);
  for (std::string word; words >> word;) argv.push_back(word);
  return run_belay(argv, dir.path(), timeout, options);
}

// The value of a printed string, as the console shows it.
std::string shown_string(const std::string& s) { return "\"" + s + "\"\n"; }

// The number printed after `label\t` on a line of `out`, or -1.
long printed_number(const std::string& out, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("(^|\n)" + label + "\t(\\d+)\n"))) return -1;
  return std::stol(m[2]);
}

// --- belay repl CAMPAIGN.lua ----------------------------------------------------

const char* kHomeCampaign = R"(return {
  name = "homebound",
  items = { { id = "a" } },
  home = "HOME_URL",
  run = function(page, item, ctx) ctx:go_home() end,
}
)";

// A ladder of its own, beside the script: its one step marks the page with
// the ctx it was given.
const char* kOwnLadderCampaign = R"(return {
  name = "marking",
  items = { { id = "a" } },
  ladder = "marker",
  run = function(page, item, ctx) end,
}
)";
const char* kMarkerLadder = R"(return {
  name = "marker",
  steps = {
    { name = "mark", run = function(page, ctx)
        page:evaluate("document.title = 'marked for ' + " .. belay.json.encode(ctx.profile))
      end },
  },
}
)";

class ReplCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    campaign_ = dir_.write("campaign.lua", replace_all(kHomeCampaign, "HOME_URL", home()));
  }
  std::string home() const { return fixture_.url("/page1"); }
  BelayRun repl(const std::string& input, const std::string& campaign = "campaign.lua") {
    return run_scripted(dir_, "repl" + std::to_string(++runs_),
                        "repl " + campaign + " --state state", input);
  }

  TempDir dir_{"belay-repl-campaign-"};
  BackgroundFixtureServer fixture_;
  std::string campaign_;
  int runs_ = 0;
};

TEST_F(ReplCampaign, CampaignGlobalIsTheLoadedCampaignTable) {
  const auto r = repl(
      "=campaign.name\n"
      "=campaign.home\n"
      "=type(campaign.run)\n");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_EQ(r.out, shown_string("homebound") + shown_string(home()) + shown_string("function"))
      << r.describe;
}

TEST_F(ReplCampaign, LadderIsTheStandardOneWhenTheCampaignNamesNone) {
  const auto r = repl(
      "=ladder().name\n"
      "for _, s in ipairs(ladder().steps) do print(s.name) end\n");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_EQ(r.out,
            shown_string("standard") + "go_home\nback\nreload\nreopen_page\nrestart_browser\n")
      << r.describe;
}

TEST_F(ReplCampaign, LadderIsTheCampaignsOwnAndStepRunsItOnTheConsolesPage) {
  dir_.write("own.lua", kOwnLadderCampaign);
  dir_.write("marker.lua", kMarkerLadder);
  const auto r = repl("page:navigate('" + fixture_.url("/page2") +
                          "')\n"
                          "=ladder().name\n"
                          "=#ladder().steps\n"
                          "=step('mark')\n"
                          "=page:title()\n",
                      "own.lua");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out,
              ::testing::HasSubstr(shown_string("marker") + "1\n" + shown_string("step mark done") +
                                   shown_string("marked for repl")))
      << "the step ran with the console's page and a ctx for profile `repl`\n"
      << r.describe;
}

TEST_F(ReplCampaign, CtxOfIsACtxOnTheConsolesPage) {
  const auto r = repl("page:navigate('" + fixture_.url("/page2") +
                      "')\n"
                      "c = ctx_of()\n"
                      "=c.profile\n"
                      "=c.campaign.name\n"
                      "=c.page:title()\n"
                      "=c.browser:pid() == browser:pid()\n"
                      "c.page:navigate('" +
                      fixture_.url("/page3") +
                      "')\n"
                      "=page:title()\n");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr(shown_string("repl") + shown_string("homebound") +
                                          shown_string("Page 2") + "true\n"))
      << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr(shown_string("Page 3")))
      << "ctx_of().page is the console's `page`\n"
      << r.describe;
}

TEST_F(ReplCampaign, StepGoHomeLeavesThePageAtTheCampaignsHome) {
  const auto r = repl("page:navigate('" + fixture_.url("/page2") +
                      "')\n"
                      "=page:title()\n"
                      "=step('go_home')\n"
                      "=page:url()\n"
                      "=page:title()\n");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out,
              ::testing::HasSubstr(shown_string("Page 2") + shown_string("step go_home done") +
                                   shown_string(home()) + shown_string("Page 1")))
      << r.describe;
}

// The bundled ladders' restart step reads ctx.error, which a step run at
// the console does not have: it restarts the browser.
TEST_F(ReplCampaign, StepRestartBrowserOfTheStandardLadderRunsInTheConsole) {
  const auto r = repl(
      "before = browser:pid()\n"
      "=step('restart_browser')\n"
      "=browser:pid() ~= before\n"
      "=page:evaluate('6*7')\n");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_EQ(r.out, shown_string("step restart_browser done") + "true\n42\n") << r.describe;
}

TEST_F(ReplCampaign, UnknownStepIsAClearErrorAndThePromptStays) {
  PtyProcess console({belay_binary(), "repl", campaign_, "--state", dir_.file("state")},
                     dir_.path());
  ASSERT_TRUE(console.expect("> ", seconds(60))) << console.output();
  console.wait_raw_mode(seconds(10));
  console.mark();
  console.send_line("step('fly_away')");
  EXPECT_TRUE(console.expect("config: the ladder has no step named fly_away", seconds(30)) &&
              console.expect("> ", seconds(30)))
      << console.recent();
  console.wait_raw_mode(seconds(10));
  console.mark();
  console.send_line("=6*7");
  EXPECT_TRUE(console.expect("\n42\r\n", seconds(30)) && console.expect("> ", seconds(30)))
      << "the prompt stays after the error: " << console.recent();
  EXPECT_TRUE(console.running());
  console.wait_raw_mode(seconds(10));
  console.send("\x04");
  EXPECT_EQ(console.wait(seconds(60)), 0) << console.output();
}

// --- belay attach to a live run ------------------------------------------------

// Quick items first, then one long item per profile that parks its page at
// item.url and sleeps: from then on the run writes no event and navigates no
// page, so what the console does is all that happens.
const char* kParkedCampaign = R"(return {
  name = "parked",
  items = "items.jsonl",
  profiles = { "p1", "p2" },
  home = "HOME_URL",
  run = function(page, item, ctx)
    page:navigate(item.url)
    if item.park_ms then
      ctx:event("parked", { url = item.url })
      belay.sleep(item.park_ms)
    end
    return { title = page:title() }
  end,
}
)";

class ReplAttachCampaign : public ::testing::Test {
 protected:
  void SetUp() override {
    campaign_ = dir_.write("campaign.lua", campaign_text());
    std::string items;
    for (int i = 1; i <= kQuickItems; ++i) {
      items += json{{"id", "q" + std::to_string(i)}, {"url", fixture_.url("/page1")}}.dump() + "\n";
    }
    for (const char* path : {"/page1?parked=1", "/page2?parked=2"}) {
      items +=
          json{{"id", std::string("long") + path}, {"url", fixture_.url(path)}, {"park_ms", 110000}}
              .dump() +
          "\n";
    }
    dir_.write("items.jsonl", items);
  }
  std::string campaign_text() const { return replace_all(kParkedCampaign, "HOME_URL", home()); }
  std::string home() const { return fixture_.url("/page3"); }

  // Starts the run and waits until both profiles have parked; fills
  // parked_url_ (profile -> the URL its page shows).
  std::unique_ptr<BelayProcess> start_parked_run() {
    auto run = std::make_unique<BelayProcess>(
        std::vector<std::string>{"run", campaign_, "--state", state(), "--no-reload"}, dir_.path());
    const auto parked = wait_for_events(
        events(), [](const json& e) { return e.value("event", "") == "parked"; }, 2, seconds(90),
        run.get());
    EXPECT_EQ(parked.size(), 2u) << run->describe();
    for (const auto& e : parked) parked_url_[e.value("profile", "")] = e["params"].value("url", "");
    EXPECT_EQ(parked_url_.size(), 2u);
    return run;
  }
  // The run's items sleep for minutes: stop it (SIGTERM, by PID).
  static void stop(BelayProcess& run) {
    run.send_signal(SIGTERM);
    run.wait(seconds(60));
    EXPECT_FALSE(run.timed_out()) << run.describe();
  }
  BelayRun attach(const std::string& input) {
    return run_scripted(dir_, "attach" + std::to_string(++attaches_), "attach --state state",
                        input);
  }
  std::string state() const { return dir_.file("state"); }
  std::string events() const { return dir_.file("state/events.jsonl"); }
  static bool is(const json& e, const char* name) { return e.value("event", "") == name; }

  static constexpr int kQuickItems = 10;
  TempDir dir_{"belay-attach-campaign-"};
  BackgroundFixtureServer fixture_;
  std::string campaign_;
  std::map<std::string, std::string> parked_url_;
  int attaches_ = 0;
};

TEST_F(ReplAttachCampaign, EventsReturnsTheLastNEventsOfTheLog) {
  auto run = start_parked_run();
  const auto r = attach(
      "for _, e in ipairs(events(4)) do print(belay.json.encode(e)) end\n"
      "=#events()\n"
      "=#events(25)\n");
  EXPECT_EQ(r.exit_code, 0) << r.describe;
  const auto all = read_events(events());
  ASSERT_GE(all.size(), 25u) << "the quick items wrote enough events";
  std::vector<json> shown;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line) && line.rfind("{", 0) == 0;) {
    shown.push_back(json::parse(line));
  }
  ASSERT_EQ(shown.size(), 4u) << r.describe;
  // Field by field: an empty object comes back from Lua as an empty table.
  for (size_t i = 0; i < 4; ++i) {
    const json& logged = all[all.size() - 4 + i];
    for (const auto& [key, value] : logged.items()) {
      if (value.is_string() || value.is_number()) {
        EXPECT_EQ(shown[i].value(key, json()), value)
            << "events(4) is the log's tail, oldest first: " << key << " of " << logged.dump();
      }
    }
  }
  EXPECT_THAT(r.out, ::testing::HasSubstr("\n20\n25\n")) << "events() is the last 20\n"
                                                         << r.describe;
  stop(*run);
}

TEST_F(ReplAttachCampaign, ReloadWritesTheReloadEventAndTheConsoleSeesTheNewCampaign) {
  auto run = start_parked_run();
  PtyProcess console({belay_binary(), "attach", "--state", state()}, dir_.path());
  ASSERT_TRUE(console.expect("attach> ", seconds(30))) << console.output();
  auto type = [&](const std::string& line, const std::string& shown) {
    console.wait_raw_mode(seconds(10));
    console.mark();
    console.send_line(line);
    return console.expect(shown, seconds(30)) && console.expect("attach> ", seconds(30));
  };
  EXPECT_TRUE(type("=campaign.home", home())) << console.recent();

  // The file changes behind the run's back (--no-reload): nothing reloads
  // until the operator says so.
  const std::string new_home = fixture_.url("/page2");
  dir_.write("campaign.lua", replace_all(kParkedCampaign, "HOME_URL", new_home));
  EXPECT_TRUE(type("=reload()", "version = 2")) << console.recent();
  const auto reloaded = wait_for_event(
      events(), [](const json& e) { return is(e, "reload"); }, seconds(30), run.get());
  ASSERT_TRUE(reloaded) << run->describe();
  EXPECT_EQ((*reloaded).value("outcome", ""), "ok") << reloaded->dump();
  EXPECT_EQ((*reloaded)["params"].value("version", 0), 2) << reloaded->dump();
  EXPECT_EQ((*reloaded)["params"].value("file", ""), campaign_) << reloaded->dump();
  EXPECT_TRUE(type("=events(1)[1].event", "\"reload\"")) << console.recent();
  EXPECT_TRUE(type("=campaign.home", new_home))
      << "the console's copy follows the reload: " << console.recent();

  // As a file change would: a broken file is a failed reload, the old
  // version stays.
  dir_.write("campaign.lua", "return {\n  name = \n");
  EXPECT_TRUE(
      type("reload()", "config: " + campaign_ + ":3: unexpected symbol near <eof> (reload)"))
      << console.recent();
  const auto failed = wait_for_event(
      events(), [](const json& e) { return is(e, "reload") && e.value("outcome", "") == "fail"; },
      seconds(30), run.get());
  EXPECT_TRUE(failed) << run->describe();
  EXPECT_TRUE(type("=campaign.home", new_home)) << console.recent();
  EXPECT_TRUE(run->running()) << "a failed reload does not stop the run";

  console.wait_raw_mode(seconds(10));
  console.send("\x04");
  EXPECT_EQ(console.wait(seconds(30)), 0) << console.output();
  stop(*run);
}

TEST_F(ReplAttachCampaign, UseMakesPageAndBrowserFollowTheProfile) {
  auto run = start_parked_run();
  const auto r = attach(
      "=page:url()\n"
      "print('before', browser:pid())\n"
      "=use('p2')\n"
      "=page:url()\n"
      "print('after', browser:pid())\n"
      "=browser:pid() == browser_of('p2'):pid()\n"
      "use('nobody')\n"
      "=page:url()\n");
  EXPECT_EQ(r.exit_code, 1) << "use('nobody') failed\n" << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr(shown_string(parked_url_["p1"])))
      << "`page` starts as the first profile's\n"
      << r.describe;
  const size_t after_use = r.out.find(shown_string("p2"));
  ASSERT_NE(after_use, std::string::npos) << r.describe;
  EXPECT_NE(r.out.find(shown_string(parked_url_["p2"]), after_use), std::string::npos)
      << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("true\n" + shown_string(parked_url_["p2"])))
      << "after a failed use(), `page` stays p2's\n"
      << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("config: no profile named 'nobody'")) << r.describe;

  // The pids are those of each profile's own browser (its user-data-dir).
  const long before = printed_number(r.out, "before");
  const long after = printed_number(r.out, "after");
  ASSERT_GT(before, 0) << r.describe;
  ASSERT_GT(after, 0) << r.describe;
  EXPECT_NE(before, after);
  EXPECT_THAT(cmdline_of(static_cast<pid_t>(before)),
              ::testing::HasSubstr(state() + "/profiles/p1"));
  EXPECT_THAT(cmdline_of(static_cast<pid_t>(after)),
              ::testing::HasSubstr(state() + "/profiles/p2"));
  stop(*run);
}

TEST_F(ReplAttachCampaign, BrowserOfAndCtxOfReachTheNamedProfile) {
  auto run = start_parked_run();
  const auto r = attach(
      "print('p1', browser_of('p1'):pid())\n"
      "print('p2', browser_of('p2'):pid())\n"
      "=ctx_of('p2').profile\n"
      "=ctx_of().profile\n"
      "=ctx_of('p2').campaign.name\n"
      "=ctx_of('p2').page:url()\n"
      "=ctx_of('p2').browser:pid() == browser_of('p2'):pid()\n"
      "browser_of('nobody')\n"
      "ctx_of('nobody')\n"
      "=6*7\n");
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  const long p1 = printed_number(r.out, "p1");
  const long p2 = printed_number(r.out, "p2");
  ASSERT_GT(p1, 0) << r.describe;
  ASSERT_GT(p2, 0) << r.describe;
  EXPECT_THAT(cmdline_of(static_cast<pid_t>(p1)), ::testing::HasSubstr(state() + "/profiles/p1"));
  EXPECT_THAT(cmdline_of(static_cast<pid_t>(p2)), ::testing::HasSubstr(state() + "/profiles/p2"));
  EXPECT_THAT(
      r.out, ::testing::HasSubstr(shown_string("p2") + shown_string("p1") + shown_string("parked") +
                                  shown_string(parked_url_["p2"]) + "true\n42\n"))
      << "ctx_of() is the first profile's; errors leave the console going\n"
      << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("config: no profile named 'nobody' (browser_of)"))
      << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("config: no profile named 'nobody' (ctx_of)"))
      << r.describe;
  stop(*run);
}

TEST_F(ReplAttachCampaign, StepOnAProfileRunsTheLadderStepOnItsPage) {
  auto run = start_parked_run();
  const auto r = attach(
      "=ladder().name\n"
      "=step('p2', 'go_home')\n"
      "=page_of('p2'):url()\n"
      "=page_of('p1'):url()\n"
      "step('p2', 'fly_away')\n"
      "step('nobody', 'go_home')\n"
      "=6*7\n");
  EXPECT_EQ(r.exit_code, 1) << r.describe;
  EXPECT_THAT(r.out,
              ::testing::HasSubstr(shown_string("standard") + shown_string("step go_home done") +
                                   shown_string(home()) + shown_string(parked_url_["p1"]) + "42\n"))
      << "go_home moved p2's page to the campaign's home and left p1's alone\n"
      << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("config: the ladder has no step named fly_away"))
      << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("config: no profile named 'nobody'")) << r.describe;
  stop(*run);
}

// --- the run ends under the console -----------------------------------------

// One profile, one item that waits for #go on its page; the console opens the
// gate, so the run ends while the console is attached.
const char* kGateCampaign = R"(return {
  name = "gate",
  items = { { id = "only" } },
  profiles = { "p1" },
  home = "HOME_URL",
  run = function(page, item, ctx)
    ctx:go_home()
    ctx:event("waiting", {})
    page:wait_for("#go", { timeout = 100000 })
    return { opened = true }
  end,
}
)";
const char* kOpenTheGate =
    "page:evaluate(\"document.body.appendChild(Object.assign(document.createElement('b'), "
    "{ id: 'go' })) && 'gate-' + 'open'\")";

class ReplAttachRunEnds : public ::testing::Test {
 protected:
  std::unique_ptr<BelayProcess> start_gated_run() {
    const std::string campaign =
        dir_.write("campaign.lua", replace_all(kGateCampaign, "HOME_URL", fixture_.url("/page1")));
    auto run = std::make_unique<BelayProcess>(
        std::vector<std::string>{"run", campaign, "--state", state(), "--no-reload"}, dir_.path());
    EXPECT_TRUE(wait_for_event(
        events(), [](const json& e) { return e["event"] == "waiting"; }, seconds(60), run.get()))
        << run->describe();
    return run;
  }
  void expect_run_finished(BelayProcess& run) {
    EXPECT_EQ(run.wait(seconds(60)), 0) << run.describe();
    const auto all = read_events(events());
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.back().value("event", ""), "run_finish");
    EXPECT_EQ(all.back()["params"].value("done", 0), 1) << all.back().dump();
  }
  std::string state() const { return dir_.file("state"); }
  std::string events() const { return dir_.file("state/events.jsonl"); }

  TempDir dir_{"belay-attach-ends-"};
  BackgroundFixtureServer fixture_;
};

TEST_F(ReplAttachRunEnds, ConsoleWaitingInAChunkSaysTheRunEndedAndExits) {
  auto run = start_gated_run();
  // The chunk opens the gate, then waits far longer than the run lasts.
  std::string input = std::string(kOpenTheGate) + "; print('gate open'); belay.sleep(90000)\n";
  auto console = std::async(std::launch::async, [&] {
    return run_scripted(dir_, "attach", "attach --state state", input, seconds(110));
  });
  expect_run_finished(*run);
  ASSERT_EQ(console.wait_for(seconds(60)), std::future_status::ready)
      << "the console is still there after the run ended";
  const BelayRun r = console.get();
  EXPECT_EQ(r.exit_code, 1) << "the chunk did not finish\n" << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("gate open")) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("the run has ended")) << r.describe;
}

// An idle console used to sit in readline() with the loop stopped, and saw
// the closed socket only when the next line was typed.
TEST_F(ReplAttachRunEnds, ConsoleIdleAtThePromptSaysTheRunEndedAndExits) {
  auto run = start_gated_run();
  PtyProcess console({belay_binary(), "attach", "--state", state()}, dir_.path());
  ASSERT_TRUE(console.expect("attach> ", seconds(30))) << console.output();
  console.wait_raw_mode(seconds(10));
  console.mark();
  console.send_line(std::string("=") + kOpenTheGate);
  ASSERT_TRUE(console.expect("\"gate-open\"", seconds(30)) &&
              console.expect("attach> ", seconds(30)))
      << console.recent();
  expect_run_finished(*run);
  // Nothing is typed: the console notices by itself.
  EXPECT_TRUE(console.expect("the run has ended", seconds(30))) << console.recent();
  EXPECT_TRUE(console.wait_for_exit(seconds(30))) << "still at the prompt: " << console.recent();
}

// A script that keeps the console's stdin open (a pipe from a process that
// goes on) used to wait on it after the run was gone.
TEST_F(ReplAttachRunEnds, ScriptedConsoleWhoseStdinStaysOpenSaysTheRunEndedAndExits) {
  auto run = start_gated_run();
  int input[2];
  ASSERT_EQ(::pipe2(input, O_CLOEXEC), 0);
  BelayOptions options;
  options.stdin_fd = input[0];
  BelayProcess console({"attach", "--state", state()}, dir_.path(), options);
  ::close(input[0]);
  const std::string chunk = std::string(kOpenTheGate) + "; print('gate open')\n";
  ASSERT_EQ(::write(input[1], chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
  expect_run_finished(*run);
  EXPECT_TRUE(console.wait_for_exit(seconds(30))) << "still reading stdin: " << console.describe();
  ::close(input[1]);
  console.wait(seconds(10));
  EXPECT_EQ(console.exit_code(), 0) << console.describe();
  EXPECT_THAT(console.out(), ::testing::HasSubstr("gate open")) << console.describe();
  EXPECT_THAT(console.err(), ::testing::HasSubstr("the run has ended")) << console.describe();
}

}  // namespace
}  // namespace belay::test
