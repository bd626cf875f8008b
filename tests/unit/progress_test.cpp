// The live progress line of `belay run` and its plain log lines: counts from
// events, rate and ETA on a fake clock (resumed runs included), trimming,
// paused and fatal profiles, odd JSON, and the display on a real loop writing
// to a pipe.

#include "campaign/progress.hpp"
#include "campaign/event_log.hpp"
#include "progress_display.hpp"

#include "support/run_loop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace belay::campaign {
namespace {

using cli::ProgressDisplay;
using cli::ProgressDisplayOptions;
using nlohmann::json;

// An event in the exact shape EventLog hands its observer.
json event(const std::string& name, const std::string& profile = "", const std::string& item = "",
           json params = json::object(), const std::string& outcome = "",
           std::optional<uint64_t> dur_ms = {}) {
  json seen;
  EventLog log("", "demo");
  log.on_event([&seen](const json& e) { seen = e; });
  log.write(Event{name, profile, "", item, std::move(params), outcome, dur_ms});
  return seen;
}

class ProgressTest : public ::testing::Test {
 protected:
  uint64_t now_ = 0;
  Progress progress_{[this] { return now_; }};
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST_F(ProgressTest, CountsEachKindOfEvent) {
  progress_.begin(10, 0, 0);
  for (const json& e :
       {event("item_start", "p1", "k1"), event("retry", "p1", "k1", {{"attempt", 1}}),
        event("retry", "p1", "k1", {{"attempt", 2}}), event("item_ok", "p1", "k1", {}, "ok", 5),
        event("recover", "p1", "k2", {{"step", "go_home"}}, "fail"),
        event("recover", "p1", "k2", {{"step", "reload"}}, "ok"),
        event("item_failed", "p1", "k3", {{"kind", "timeout"}}, "fail"),
        event("heartbeat_missed", "p1"), event("restarting", "p1"), event("browser_exit", "p1"),
        event("soft_restart", "p1"), event("browser_launch", "p1", "", {}, "ok")}) {
    progress_.observe(e);
  }
  EXPECT_EQ(progress_.done(), 1);
  EXPECT_EQ(progress_.failed(), 1);
  EXPECT_EQ(progress_.retries(), 2);
  EXPECT_EQ(progress_.recoveries(), 1);  // the failed step is not a recovery
  EXPECT_EQ(progress_.restarts(), 2);
  now_ = 4000;  // 2 items in 4 s, 8 to go
  EXPECT_EQ(progress_.line(200),
            "belay  1/10 done  1 failed  0.5 items/s  ETA 0:16  retries 2  recoveries 1  "
            "restarts 2");
}

TEST_F(ProgressTest, ResumedRunRatesOnlyThisRunsItems) {
  now_ = 1000;
  progress_.begin(100, 60, 2);
  for (int i = 1; i <= 4; ++i) {
    now_ = 1000 + 500 * i;
    progress_.observe(event("item_ok", "p1", "k" + std::to_string(i), {}, "ok"));
  }
  ASSERT_TRUE(progress_.rate().has_value());
  EXPECT_DOUBLE_EQ(*progress_.rate(), 2.0);  // 4 items in 2 s, not 64
  EXPECT_EQ(progress_.eta_seconds(), 17u);   // 34 left
  EXPECT_TRUE(starts_with(progress_.line(200),
                          "belay  64/100 done  2 failed  2.0 items/s  ETA 0:17  retries 0"))
      << progress_.line(200);
}

TEST_F(ProgressTest, EtaIsDashesUntilThereIsARate) {
  progress_.begin(5, 0, 0);
  now_ = 10000;
  EXPECT_FALSE(progress_.rate().has_value());
  EXPECT_FALSE(progress_.eta_seconds().has_value());
  EXPECT_THAT(progress_.line(200), ::testing::HasSubstr("0 failed  -- items/s  ETA --  retries"))
      << progress_.line(200);
  progress_.observe(event("item_ok", "p1", "k1", {}, "ok"));
  EXPECT_THAT(progress_.line(200), ::testing::HasSubstr("0.1 items/s  ETA 0:40"))
      << progress_.line(200);
}

TEST_F(ProgressTest, SlowRunShowsItemsPerMinute) {
  progress_.begin(10, 0, 0);
  now_ = 20000;
  progress_.observe(event("item_failed", "p1", "k1", {}, "fail"));
  EXPECT_THAT(progress_.line(200), ::testing::HasSubstr("3.0 items/min  ETA 3:00"))
      << progress_.line(200);
}

TEST_F(ProgressTest, EtaRoundsUp) {
  progress_.begin(10, 0, 0);
  now_ = 2000;
  for (const char* key : {"k1", "k2", "k3"}) {
    progress_.observe(event("item_ok", "p1", key, {}, "ok"));
  }
  EXPECT_EQ(progress_.eta_seconds(), 5u);  // 7 left at 1.5/s: 4.7 s is not "0:04"
}

TEST_F(ProgressTest, EtaPastAnHourHasHours) {
  progress_.begin(10000, 0, 0);
  now_ = 1000;
  progress_.observe(event("item_ok", "p1", "k1", {}, "ok"));
  EXPECT_THAT(progress_.line(200), ::testing::HasSubstr("ETA 2:46:39")) << progress_.line(200);
}

TEST_F(ProgressTest, FinishedRunHasZeroEta) {
  progress_.begin(2, 1, 0);
  now_ = 100;
  progress_.observe(event("item_ok", "p1", "k2", {}, "ok"));
  EXPECT_EQ(progress_.eta_seconds(), 0u);
  EXPECT_THAT(progress_.line(200), ::testing::HasSubstr("ETA 0:00"));
}

TEST_F(ProgressTest, RateFollowsTheLastThirtySeconds) {
  progress_.begin(1000, 0, 0);
  for (int i = 1; i <= 100; ++i) {  // a fast start: 100 items in 10 s
    now_ = 100 * static_cast<uint64_t>(i);
    progress_.observe(event("item_ok", "p1", "a" + std::to_string(i), {}, "ok"));
  }
  for (uint64_t t : {100000, 110000, 120000, 125000}) {
    now_ = t;
    progress_.observe(event("item_ok", "p1", "b" + std::to_string(t), {}, "ok"));
  }
  ASSERT_TRUE(progress_.rate().has_value());
  EXPECT_DOUBLE_EQ(*progress_.rate(), 4 / 30.0);  // not 104 / 125
  // Too few items in the window: the whole run's average.
  now_ = 200000;
  EXPECT_DOUBLE_EQ(*progress_.rate(), 104 / 200.0);
}

TEST_F(ProgressTest, TotalComesFromRunStartUntilBegin) {
  EXPECT_TRUE(starts_with(progress_.line(200), "belay  0 done  0 failed")) << progress_.line(200);
  progress_.observe(event("run_start", "p1", "", {{"items", 7}}));
  EXPECT_TRUE(starts_with(progress_.line(200), "belay  0/7 done  0 failed")) << progress_.line(200);
  progress_.begin(50, 3, 0);
  progress_.observe(event("run_start", "p1", "", {{"items", 7}}));
  EXPECT_TRUE(starts_with(progress_.line(200), "belay  3/50 done  0 failed"))
      << progress_.line(200);
}

TEST_F(ProgressTest, LineIsTrimmedToWidth) {
  progress_.begin(100, 37, 2);
  const std::string full = progress_.line(1000);
  EXPECT_GT(full.size(), 80u);
  EXPECT_EQ(progress_.line(20), full.substr(0, 20));
  EXPECT_EQ(progress_.line(full.size()), full);
  EXPECT_EQ(progress_.line(0), "");
}

TEST_F(ProgressTest, TrimmingCountsCharactersNotBytes) {
  progress_.begin(1, 0, 0);
  progress_.observe(event("pause", "\xC3\xA9\xC3\xA9\xC3\xA9"));  // "ééé"
  const std::string full = progress_.line(1000);
  ASSERT_EQ(full.substr(full.size() - 13), "paused \xC3\xA9\xC3\xA9\xC3\xA9");
  const size_t columns = full.size() - 3;  // three 2-byte characters
  const std::string cut = progress_.line(columns - 1);
  EXPECT_EQ(cut, full.substr(0, full.size() - 2));  // one whole "é" less
}

TEST_F(ProgressTest, PausedProfilesComeAndGo) {
  progress_.begin(10, 0, 0);
  progress_.observe(event("pause", "p3", "", {{"until_ms", 99}}));
  progress_.observe(event("pause", "p2", "", {{"until_ms", 99}}));
  const std::string both = progress_.line(300);
  EXPECT_EQ(both.substr(both.size() - 14), "  paused p2,p3") << both;
  progress_.observe(event("unpause", "p2"));
  const std::string one = progress_.line(300);
  EXPECT_EQ(one.substr(one.size() - 11), "  paused p3") << one;
  progress_.observe(event("unpause", "p3"));
  EXPECT_THAT(progress_.line(300), ::testing::Not(::testing::HasSubstr("paused")));
}

// A `waiting` event shows on the line and counts down; the profile's next
// event (or the end of the wait) takes it off.
TEST_F(ProgressTest, WaitsCountDownOnTheLine) {
  progress_.begin(10, 0, 0);
  progress_.observe(event("waiting", "p1", "k1", {{"what", "recover"}, {"ms", 30000}}));
  progress_.observe(event("waiting", "p2", "", {{"what", "restart"}, {"ms", 2500}}));
  const std::string both = progress_.line(300);
  EXPECT_EQ(both.substr(both.size() - 25), "  waiting p1 0:30,p2 0:03") << both;
  now_ = 2600;  // p2's wait is over
  const std::string one = progress_.line(300);
  EXPECT_EQ(one.substr(one.size() - 17), "  waiting p1 0:28") << one;
  progress_.observe(event("recover", "p1", "k1", {{"step", 2}}, "ok"));
  EXPECT_THAT(progress_.line(300), ::testing::Not(::testing::HasSubstr("waiting")));
  progress_.observe(event("waiting", "p3", "", {{"ms", "soon"}}));  // odd: ignored
  EXPECT_THAT(progress_.line(300), ::testing::Not(::testing::HasSubstr("waiting")));
}

TEST_F(ProgressTest, FatalProfileIsNoLongerPaused) {
  progress_.begin(10, 0, 0);
  progress_.observe(event("pause", "p1"));
  progress_.observe(event("fatal", "p1", "", {{"reason", "restarts"}}));
  progress_.observe(event("fatal"));  // no profile: nothing to name
  const std::string line = progress_.line(300);
  EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr("paused"))) << line;
  EXPECT_EQ(line.substr(line.size() - 10), "  fatal p1") << line;
}

TEST_F(ProgressTest, NamesCannotCarryEscapes) {
  progress_.begin(10, 0, 0);
  progress_.observe(event("pause", "p\x1b[2Jx"));
  const std::string line = progress_.line(300);
  EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr("\x1b")));
  EXPECT_EQ(line.substr(line.size() - 6), "p?[2Jx");
}

TEST_F(ProgressTest, OddJsonIsIgnored) {
  progress_.begin(10, 0, 0);
  const std::vector<json> odd = {
      json(),
      json::array({1, 2}),
      json(42),
      json("item_ok"),
      json{{"event", 5}},
      json{{"event", nullptr}, {"item", nullptr}},
      json{{"event", "pause"}, {"profile", nullptr}},
      json{{"event", "pause"}},
      json{{"event", "fatal"}, {"profile", json::object()}},
      json{{"event", "recover"}, {"outcome", 1}},
      json{{"event", "run_start"}, {"params", "items"}},
      json{{"event", "item_ok"}, {"item", nullptr}, {"params", nullptr}},
  };
  for (const json& e : odd) EXPECT_NO_THROW(progress_.observe(e)) << e.dump();
  EXPECT_EQ(progress_.done(), 1);  // the last one: an item_ok is an item_ok
  EXPECT_EQ(progress_.recoveries(), 0);
  EXPECT_TRUE(progress_.paused().empty());
  EXPECT_TRUE(progress_.fatal().empty());
  EXPECT_EQ(progress_.total(), 10);
}

TEST(ProgressEta, Formats) {
  EXPECT_EQ(format_eta(0), "0:00");
  EXPECT_EQ(format_eta(35), "0:35");
  EXPECT_EQ(format_eta(600), "10:00");
  EXPECT_EQ(format_eta(3599), "59:59");
  EXPECT_EQ(format_eta(3600), "1:00:00");
  EXPECT_EQ(format_eta(3723), "1:02:03");
  EXPECT_EQ(format_eta(100 * 3600 + 61), "100:01:01");
}

// --- plain_line -----------------------------------------------------------

TEST(PlainLine, RetryNamesKindAttemptAndWait) {
  EXPECT_EQ(plain_line(event("retry", "p1", "k3",
                             {{"wait_ms", 212}, {"attempt", 1}, {"kind", "context_destroyed"}})),
            "retry profile=p1 item=k3 kind=context_destroyed attempt=1 wait_ms=212");
}

TEST(PlainLine, ItemFailedPutsTheMessageLast) {
  EXPECT_EQ(plain_line(event(
                "item_failed", "p1", "k3",
                {{"kind", "timeout"}, {"message", "Navigation timed out"}, {"op", "page:goto"}},
                "fail", 30004)),
            "item_failed fail profile=p1 item=k3 kind=timeout op=page:goto dur_ms=30004 "
            "message=\"Navigation timed out\"");
}

TEST(PlainLine, ItemOkLeavesTheResultToTheLog) {
  EXPECT_EQ(plain_line(event("item_ok", "p1", "k3", {{"result", {{"title", "x"}}}}, "ok", 12)),
            "item_ok ok profile=p1 item=k3 dur_ms=12");
  EXPECT_EQ(plain_line(event("item_ok", "p1", "k3", {{"result", "a long string"}}, "ok")),
            "item_ok ok profile=p1 item=k3");
}

TEST(PlainLine, RecoverNamesTheStepAndItsError) {
  // The shape scripts/belay/attempt.lua gives it.
  EXPECT_EQ(plain_line(event("recover", "p1", "k3", {{"name", "go_home"}, {"step", 1}}, "ok", 90)),
            "recover ok profile=p1 item=k3 step=1 name=go_home dur_ms=90");
  EXPECT_EQ(plain_line(event("recover", "p1", "k3",
                             {{"step", 2},
                              {"name", "reload"},
                              {"error", {{"kind", "timeout"}, {"message", "m"}, {"op", "o"}}}},
                             "fail")),
            "recover fail profile=p1 item=k3 step=2 name=reload error=timeout");
  EXPECT_EQ(plain_line(event("recover", "p1", "k3", {{"step_error", {{"message", "m"}}}}, "fail")),
            "recover fail profile=p1 item=k3");
}

TEST(PlainLine, RestartingGivesTheReason) {
  EXPECT_EQ(plain_line(event("restarting", "p1", "",
                             {{"screenshot", nullptr}, {"restart", 2}, {"reason", "hung"}})),
            "restarting profile=p1 reason=hung restart=2");
}

TEST(PlainLine, PauseNamesWhenItEnds) {
  EXPECT_EQ(plain_line(event("pause", "p2", "",
                             {{"error_streak", 3},
                              {"until_ms", 1700000000000},
                              {"ms", 60000},
                              {"reason", "error_streak"}})),
            "pause profile=p2 reason=error_streak until_ms=1700000000000 error_streak=3 ms=60000");
}

TEST(PlainLine, ReloadFailureNamesFileAndLine) {
  EXPECT_EQ(
      plain_line(event(
          "reload", "", "",
          {{"file", "/c/campaign.lua"}, {"line", 12}, {"message", "unexpected symbol near 'x'"}},
          "fail")),
      "reload fail file=/c/campaign.lua line=12 message=\"unexpected symbol near 'x'\"");
}

TEST(PlainLine, OddJsonNeverThrows) {
  const std::vector<std::pair<json, std::string>> cases = {
      {json(), "event"},
      {json::array({1}), "event"},
      {json("item_ok"), "event"},
      {json::object(), "event"},
      {json{{"event", "item_ok"}, {"item", nullptr}}, "item_ok"},
      {json{{"event", "x"}, {"params", json::array({1, 2})}}, "x"},
      {json{{"event", "x"}, {"params", "text"}}, "x"},
      {json{{"event", "x"}, {"params", nullptr}, {"outcome", nullptr}, {"dur_ms", nullptr}}, "x"},
      {json{{"event", 7}}, "7"},
      {json{{"event", "x"}, {"item", 17}, {"profile", true}}, "x profile=true item=17"},
      {json{{"event", "x"}, {"item", json::object()}, {"profile", json::array()}}, "x"},
      {json{
           {"event", "x"},
           {"params",
            {{"a", true}, {"b", 1.5}, {"c", nullptr}, {"d", {{"e", 1}}}, {"f", json::array({1})}}}},
       "x a=true b=1.5"},
      {json{{"event", "x"}, {"params", {{"kind", 3}, {"message", false}}}},
       "x kind=3 message=false"},
      {json{{"event", "x"}, {"dur_ms", "12"}}, "x dur_ms=12"},
  };
  for (const auto& [input, expected] : cases) {
    std::string line;
    EXPECT_NO_THROW(line = plain_line(input)) << input.dump();
    EXPECT_EQ(line, expected) << input.dump();
  }
}

TEST(PlainLine, ValuesThatWouldSplitTheLineAreQuoted) {
  EXPECT_EQ(plain_line(event("item_ok", "", "a b")), "item_ok item=\"a b\"");
  EXPECT_EQ(plain_line(event("item_ok", "", "k\n3")), "item_ok item=\"k\\n3\"");
  EXPECT_EQ(plain_line(event("item_ok", "", "a=b")), "item_ok item=\"a=b\"");
  EXPECT_EQ(plain_line(event("item_ok", "", "say\"hi\"")), "item_ok item=\"say\\\"hi\\\"\"");
  EXPECT_EQ(plain_line(event("x", "", "", {{"odd key", 1}})), "x \"odd key\"=1");
  const std::string escape = plain_line(event("item_ok", "", "\x1b[31mred"));
  EXPECT_THAT(escape, ::testing::Not(::testing::HasSubstr("\x1b"))) << escape;
  EXPECT_EQ(escape, "item_ok item=\"\\u001b[31mred\"");
  EXPECT_EQ(plain_line(event("item_ok", "", "caf\xC3\xA9")), "item_ok item=caf\xC3\xA9");
}

TEST(PlainLine, InvalidUtf8AndC1ControlsAreReplaced) {
  json e = {{"event", "item_ok"},
            {"item",
             "a\xFF"
             "b"}};
  EXPECT_EQ(plain_line(e),
            "item_ok item=a\xEF\xBF\xBD"
            "b");
  e["item"] =
      "\xC2\x9B"
      "2J";  // CSI as one UTF-8 character
  EXPECT_EQ(plain_line(e),
            "item_ok item=\xEF\xBF\xBD"
            "2J");
  e["item"] = "\xE2\x82";  // cut short
  EXPECT_EQ(plain_line(e), "item_ok item=\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(PlainLine, LongValuesAreCutOnACharacter) {
  const std::string line = plain_line(event("x", "", "", {{"message", std::string(1000, 'm')}}));
  EXPECT_EQ(line, "x message=" + std::string(200, 'm') + "...");
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\xC3\xA9";
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xC3\xA9";
  EXPECT_EQ(plain_line(event("x", "", accents)), "x item=" + hundred + "...");
}

// --- ProgressDisplay on a real loop ----------------------------------------

class ProgressDisplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    ASSERT_EQ(::fcntl(read_fd_, F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    ::close(read_fd_);
    ::close(write_fd_);
  }

  ProgressDisplayOptions options(bool terminal) {
    ProgressDisplayOptions o;
    o.fd = write_fd_;
    o.terminal = terminal;
    o.interval_ms = 10;
    o.width = 201;  // lines of up to 200 columns
    o.clock = [this] { return now_; };
    return o;
  }

  // Everything written since the last call.
  std::string drain() {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(read_fd_, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
    return out;
  }

  uv_loop_t loop_{};
  int read_fd_ = -1;
  int write_fd_ = -1;
  uint64_t now_ = 0;
};

TEST_F(ProgressDisplayTest, RedrawsTheLineOnATimer) {
  std::string seen;
  {
    ProgressDisplay display(&loop_, options(true));
    display.progress().begin(10, 0, 0);
    const std::string zero = "\r" + display.progress().line(200) + "\x1b[K";
    EXPECT_TRUE(test::run_until(
        &loop_, [&] { return count(seen += drain(), zero) >= 3; }, 5000))
        << seen;
    display.observe(event("item_ok", "p1", "k1", {}, "ok"));
    const std::string one = "\r" + display.progress().line(200) + "\x1b[K";
    ASSERT_NE(one, zero);
    seen.clear();
    EXPECT_TRUE(test::run_until(
        &loop_, [&] { return (seen += drain()).find(one) != std::string::npos; }, 5000))
        << seen;
    display.stop();
    seen = drain();
    EXPECT_EQ(seen, one + "\n");  // the final line, ended
    // Nothing left alive: the timer was closed, not just stopped.
    EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    display.observe(event("item_failed", "p1", "k2", {}, "fail"));
    EXPECT_EQ(drain(), "item_failed fail profile=p1 item=k2\n");  // plain after stop
  }
}

TEST_F(ProgressDisplayTest, NeverKeepsTheLoopAlive) {
  ProgressDisplay display(&loop_, options(true));
  EXPECT_EQ(uv_loop_alive(&loop_), 0);
  display.stop();
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
}

TEST_F(ProgressDisplayTest, DestructorClosesTheTimer) {
  { ProgressDisplay display(&loop_, options(true)); }
  const std::string out = drain();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
}

TEST_F(ProgressDisplayTest, PrintsEventsThatMatterAboveTheLine) {
  ProgressDisplay display(&loop_, options(true));
  display.progress().begin(10, 0, 0);
  display.observe(event("item_start", "p1", "k1"));
  display.observe(event("item_ok", "p1", "k1", {}, "ok"));
  display.observe(event("retry", "p1", "k2", {{"attempt", 1}}));
  EXPECT_EQ(drain(), "");  // counted, shown at the next redraw
  const json failed = event("item_failed", "p1", "k2", {{"kind", "timeout"}}, "fail");
  display.observe(failed);
  EXPECT_EQ(drain(), "\ritem_failed fail profile=p1 item=k2 kind=timeout\x1b[K\n\r" +
                         display.progress().line(200) + "\x1b[K");
  for (const char* name : {"recover", "pause", "unpause", "restarting", "fatal", "browser_exit"}) {
    display.observe(event(name, "p1"));
    const std::string out = drain();
    EXPECT_EQ(out.rfind(std::string("\r") + name + " profile=p1\x1b[K\n\rbelay  1/10", 0), 0u)
        << out;
  }
  display.observe(event("reload", "", "", {{"file", "/c.lua"}, {"line", 3}}, "fail"));
  EXPECT_EQ(drain().rfind("\rreload fail file=/c.lua line=3\x1b[K\n\rbelay", 0), 0u);
  display.print("[info] hello");
  EXPECT_EQ(drain(), "\r[info] hello\x1b[K\n\r" + display.progress().line(200) + "\x1b[K");
  display.stop();
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
}

TEST_F(ProgressDisplayTest, OffATerminalWritesOnePlainLinePerEvent) {
  ProgressDisplay display(&loop_, options(false));
  EXPECT_FALSE(display.terminal());
  display.progress().begin(10, 0, 0);
  const std::vector<json> events = {
      event("item_start", "p1", "k1", {{"index", 1}}),
      event("retry", "p1", "k1", {{"kind", "context_destroyed"}, {"attempt", 1}}),
      event("item_ok", "p1", "k1", {{"result", 1}}, "ok", 40),
  };
  std::string expected;
  for (const json& e : events) {
    display.observe(e);
    expected += plain_line(e) + "\n";
  }
  // No timer: nothing redraws however long the loop runs.
  EXPECT_EQ(uv_loop_alive(&loop_), 0);
  test::run_until(
      &loop_, [] { return false; }, 50);
  display.print("[warn] note");
  display.stop();
  EXPECT_EQ(drain(), expected + "[warn] note\n");
  EXPECT_EQ(expected,
            "item_start profile=p1 item=k1 index=1\n"
            "retry profile=p1 item=k1 kind=context_destroyed attempt=1\n"
            "item_ok ok profile=p1 item=k1 dur_ms=40\n");
  EXPECT_EQ(display.progress().done(), 1);
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
}

}  // namespace
}  // namespace belay::campaign
