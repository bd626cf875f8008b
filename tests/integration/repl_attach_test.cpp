// `belay attach` to a live `belay run`: the real binaries, a real Chromium,
// events.jsonl as the record of what the operator's commands did.

#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"
#include "support/pty_process.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Each item waits on a slow page, so the run lasts long enough to attach to.
const char* kSlowCampaign = R"(return {
  name = "slowvisit",
  items = "items.jsonl",
  profiles = { "p1", "p2" },
  run = function(page, item, ctx)
    page:navigate(item.url)
    return { title = page:title() }
  end,
}
)";

class ReplAttach : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string items;
    for (int i = 1; i <= kItems; ++i) {
      items += json{{"id", "k" + std::to_string(i)}, {"url", fixture_.url("/slow?ms=800")}}.dump() +
               "\n";
    }
    dir_.write("items.jsonl", items);
    campaign_ = dir_.write("campaign.lua", kSlowCampaign);
  }

  std::unique_ptr<BelayProcess> start_run() {
    auto run = std::make_unique<BelayProcess>(
        std::vector<std::string>{"run", campaign_, "--state", state(), "--no-reload"}, dir_.path());
    // Attach once the run has started its items (and so serves its socket).
    EXPECT_TRUE(wait_for_event(
        events(), [](const json& e) { return e["event"] == "item_start"; }, seconds(60), run.get()))
        << run->describe();
    EXPECT_TRUE(fs::exists(state() + "/control.sock"));
    return run;
  }
  std::unique_ptr<PtyProcess> attach() {
    auto console = std::make_unique<PtyProcess>(
        std::vector<std::string>{belay_binary(), "attach", "--state", state()}, dir_.path());
    EXPECT_TRUE(console->expect("attach> ", seconds(30))) << console->output();
    return console;
  }
  static ::testing::AssertionResult type(PtyProcess& console, const std::string& line,
                                         const std::string& shown) {
    console.wait_raw_mode(seconds(10));
    console.mark();
    console.send_line(line);
    if (console.expect(shown, seconds(30)) && console.expect("attach> ", seconds(30))) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "typed `" << line << "`, expected `" << shown << "`, saw: " << console.recent();
  }
  std::string state() const { return dir_.file("state"); }
  std::string events() const { return dir_.file("state/events.jsonl"); }
  static bool is(const json& e, const char* name, const char* profile) {
    return e.value("event", "") == name && e.value("profile", "") == profile;
  }

  static constexpr int kItems = 40;
  TempDir dir_{"belay-attach-"};
  BackgroundFixtureServer fixture_;
  std::string campaign_;
};

TEST_F(ReplAttach, StatusPauseResumeThenDetachLeavesTheRunToFinish) {
  auto run = start_run();
  auto console = attach();
  console->wait_raw_mode(seconds(10));
  console->send_line("=status()");
  EXPECT_TRUE(console->expect("campaign = \"slowvisit\"", seconds(30)) &&
              console->expect("done = ", seconds(5)) && console->expect("items = 40", seconds(5)) &&
              console->expect("attach> ", seconds(5)))
      << console->recent();

  EXPECT_TRUE(type(*console, "pause('p1')", "name = \"p1\""));
  auto paused = wait_for_event(
      events(), [](const json& e) { return is(e, "pause", "p1"); }, seconds(30), run.get());
  ASSERT_TRUE(paused) << run->describe();
  EXPECT_EQ((*paused)["params"].value("reason", ""), "operator");
  // While paused, p1 starts nothing; p2 goes on.
  const size_t before = read_events(events()).size();
  std::this_thread::sleep_for(seconds(2));
  const auto during = read_events(events());
  for (size_t i = before; i < during.size(); ++i) {
    EXPECT_FALSE(is(during[i], "item_start", "p1")) << during[i].dump();
  }
  // The pause is announced at once but begins when p1's item in flight
  // ends; on a loaded machine that item may outlast the two seconds above.
  bool shown_paused = false;
  for (int i = 0; i < 30 && !shown_paused; ++i) {
    console->wait_raw_mode(seconds(10));
    console->mark();
    console->send_line("=status().profiles[1].state");
    shown_paused = console->expect("\"paused\"", seconds(2));
    console->expect("attach> ", seconds(10));
  }
  EXPECT_TRUE(shown_paused) << console->recent();

  EXPECT_TRUE(type(*console, "resume('p1')", "name = \"p1\""));
  ASSERT_TRUE(wait_for_event(
      events(), [](const json& e) { return is(e, "unpause", "p1"); }, seconds(30), run.get()));
  bool unpaused = false;
  EXPECT_TRUE(wait_for_event(
      events(),
      [&](const json& e) {
        if (is(e, "unpause", "p1")) unpaused = true;
        return unpaused && is(e, "item_start", "p1");
      },
      seconds(60), run.get()))
      << "p1 takes items again after resume";

  console->wait_raw_mode(seconds(10));
  console->send("\x04");  // Ctrl-D: detach
  EXPECT_EQ(console->wait(seconds(30)), 0) << console->output();
  EXPECT_EQ(run->wait(seconds(120)), 0) << run->describe();
  const auto all = read_events(events());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().value("event", ""), "run_finish");
  EXPECT_FALSE(fs::exists(state() + "/control.sock")) << "the socket goes with the run";
}

// The operator's pause is announced the moment it is asked for (even while
// the profile is busy, when it begins after the item), says how to end it,
// keeps the browser open unless asked, and resume always writes `unpause`.
// Regression: a busy profile's pause, resumed before its item ended, wrote
// neither event, and every operator pause closed the browser.
TEST_F(ReplAttach, OperatorPauseIsLoggedKeepsTheBrowserAndResumeIsLogged) {
  auto run = start_run();
  auto console = attach();
  auto launches_of_p1 = [this]() {
    size_t n = 0;
    for (const auto& e : read_events(events())) n += is(e, "browser_launch", "p1") ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(wait_for_event(
      events(), [](const json& e) { return is(e, "item_start", "p1"); }, seconds(60), run.get()));
  const size_t launched = launches_of_p1();
  ASSERT_EQ(launched, 1u);
  // p2 stays out of the way, so that the run outlasts the test's steps.
  EXPECT_TRUE(type(*console, "pause('p2')", "name = \"p2\""));

  const size_t before_pause = read_events(events()).size();
  EXPECT_TRUE(type(*console, "pause('p1', {ms = 600000})", "name = \"p1\""));
  const auto after_pause = read_events(events());
  size_t pause_at = after_pause.size();
  for (size_t i = before_pause; i < after_pause.size(); ++i) {
    if (is(after_pause[i], "pause", "p1")) pause_at = i;
  }
  ASSERT_LT(pause_at, after_pause.size()) << "the pause was not written when it was asked for";
  const json& params = after_pause[pause_at]["params"];
  EXPECT_EQ(params.value("reason", ""), "operator") << params.dump();
  EXPECT_EQ(params.value("ms", 0), 600000) << params.dump();
  EXPECT_EQ(params.value("close_browser", true), false) << params.dump();
  EXPECT_THAT(params.value("hint", ""), ::testing::HasSubstr("belay resume p1")) << params.dump();

  const size_t before_resume = read_events(events()).size();
  EXPECT_TRUE(type(*console, "resume('p1')", "name = \"p1\""));
  const auto after_resume = read_events(events());
  bool unpaused = false;
  for (size_t i = before_resume; i < after_resume.size(); ++i) {
    if (is(after_resume[i], "unpause", "p1")) {
      unpaused = true;
      EXPECT_EQ(after_resume[i]["params"].value("reason", ""), "operator");
    }
  }
  EXPECT_TRUE(unpaused) << "resume wrote no unpause";
  ASSERT_TRUE(wait_for_event(
      events(), [&](const json& e) { return is(e, "item_start", "p1"); }, seconds(60), run.get()));
  EXPECT_EQ(launches_of_p1(), launched) << "the operator's pause closed the browser";

  // Asked to, it closes the browser; resume launches a new one.
  EXPECT_TRUE(type(*console, "pause('p1', {close_browser = true})", "name = \"p1\""));
  ASSERT_TRUE(wait_for_event(
      events(),
      [&](const json& e) {
        return is(e, "pause", "p1") && e["params"].value("close_browser", false);
      },
      seconds(30), run.get()));
  // The pause begins once p1's item ends; then its browser closes.
  bool paused = false;
  for (int i = 0; i < 100 && !paused; ++i) {
    console->wait_raw_mode(seconds(10));
    console->mark();
    const size_t from = console->output().size();
    console->send_line("=status().profiles[1].state");
    ASSERT_TRUE(console->expect("attach> ", seconds(30))) << console->recent();
    paused = console->output().find("\"paused\"", from) != std::string::npos;
    if (!paused) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(paused) << console->recent();
  EXPECT_TRUE(type(*console, "resume('p1')", "name = \"p1\""));
  EXPECT_TRUE(wait_for_event(
      events(), [&](const json&) { return launches_of_p1() == launched + 1; }, seconds(60),
      run.get()))
      << "resume after close_browser launched no browser";

  EXPECT_TRUE(type(*console, "pause('p1', {secs = 3})", "unknown option 'secs'"));
  EXPECT_TRUE(type(*console, "pause('p1', -5)", "ms must be a positive number"));
  EXPECT_TRUE(type(*console, "resume('p2')", "name = \"p2\""));
  console->wait_raw_mode(seconds(10));
  console->send("\x04");
  EXPECT_EQ(console->wait(seconds(30)), 0) << console->output();
  EXPECT_EQ(run->wait(seconds(120)), 0) << run->describe();
}

TEST_F(ReplAttach, ProfilePageAndErrorsAtTheAttachedPrompt) {
  auto run = start_run();
  // p2 has a page once its browser is up: wait for its first item.
  ASSERT_TRUE(wait_for_event(
      events(), [](const json& e) { return is(e, "item_start", "p2"); }, seconds(60), run.get()))
      << run->describe();
  auto console = attach();
  EXPECT_TRUE(type(*console, "=page_of('p2'):url({timeout = 3000})", "/slow?ms=800"));
  EXPECT_TRUE(type(*console, "pause('nobody')", "config: "));
  EXPECT_TRUE(type(*console, "help()", "pause(p [, ms | {ms, close_browser}]), resume(p)"));
  EXPECT_THAT(console->output(), ::testing::HasSubstr("help() lists what is here"));
  EXPECT_TRUE(type(*console, "=#events(3)", "\n3\r\n"));
  EXPECT_TRUE(type(*console, "=1+1", "\n2\r\n")) << "the prompt stays after an error";
  console->wait_raw_mode(seconds(10));
  console->send("\x04");
  EXPECT_EQ(console->wait(seconds(30)), 0);
  EXPECT_EQ(run->wait(seconds(120)), 0) << run->describe();
}

TEST_F(ReplAttach, MalformedControlMessagesGetErrorsNotACrash) {
  auto run = start_run();
  const std::string script = dir_.write("probe.py", R"(import socket, sys, json
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rwb')
print(f.readline().decode().strip())
for line in [b'not json\n', b'[1,2]\n', b'{"op":"explode","id":1}\n', b'{"id":2,"op":"eval"}\n',
             b'{"id":3,"op":"eval","text":"=1+"}\n', b'{"id":4,"op":"eval","text":"=6*7"}\n']:
    f.write(line); f.flush()
    print(f.readline().decode().strip())
)");
  const std::string cmd =
      "python3 " + script + " " + state() + "/control.sock > " + dir_.file("probe.out") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream out(dir_.file("probe.out"));
  std::vector<json> replies;
  for (std::string line; std::getline(out, line);) replies.push_back(json::parse(line));
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(replies[0].value("hello", ""), "belay");
  for (int i = 1; i <= 5; ++i) {
    EXPECT_FALSE(replies[i].value("ok", true)) << replies[i].dump();
    EXPECT_EQ(replies[i].value("error", "").rfind(i <= 4 ? "protocol: " : "script: ", 0), 0u)
        << replies[i].dump();
  }
  EXPECT_EQ(replies[6].value("text", ""), "42");
  EXPECT_TRUE(run->running());
  EXPECT_EQ(run->wait(seconds(120)), 0) << run->describe();
}

TEST_F(ReplAttach, NoRunThereIsAClearError) {
  fs::create_directories(state());
  auto r = run_belay({"attach", "--state", state()}, dir_.path(), seconds(30));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, ::testing::HasSubstr("no belay run serves")) << r.describe;
}

}  // namespace
}  // namespace belay::test
