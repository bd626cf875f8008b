// `belay repl` at a terminal: the real binary on a pseudo-terminal, a real
// Chromium, fixture pages. What a user types and what the screen shows.

#include "support/belay_process.hpp"
#include "support/fixture_server.hpp"
#include "support/pty_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace belay::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ReplConsole : public ::testing::Test {
 protected:
  std::unique_ptr<PtyProcess> start_repl() {
    auto repl = std::make_unique<PtyProcess>(
        std::vector<std::string>{belay_binary(), "repl", "--state", state()}, dir_.path());
    EXPECT_TRUE(repl->expect("> ", seconds(60))) << "no prompt: " << repl->output();
    return repl;
  }
  // Types a line and waits for `shown` in what follows.
  static ::testing::AssertionResult type(PtyProcess& repl, const std::string& line,
                                         const std::string& shown,
                                         milliseconds timeout = milliseconds(30000)) {
    repl.wait_raw_mode(timeout);
    repl.mark();
    repl.send_line(line);
    // Then the next prompt: libedit shows it once the terminal is in its
    // own mode, so what is typed next is edited, not cooked by the tty.
    if (repl.expect(shown, timeout) && repl.expect("> ", timeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "typed `" << line << "`, expected `" << shown << "`, saw: " << repl.recent();
  }
  static void leave(PtyProcess& repl) {
    // Ctrl-D once the editor reads keys: libedit shows the prompt a moment
    // before it leaves cooked mode, and the tty drops an end-of-file typed
    // in between.
    repl.wait_raw_mode(seconds(10));
    repl.send("\x04");
    EXPECT_EQ(repl.wait(seconds(60)), 0) << repl.output();
  }
  std::string state() const { return dir_.file("state"); }

  TempDir dir_{"belay-repl-"};
  BackgroundFixtureServer fixture_;
};

// A one-line banner names help(); help() says what the console has; JSON
// null from the page prints as null (it printed as "value: 0x55...").
TEST_F(ReplConsole, BannerHelpAndNull) {
  auto repl = start_repl();
  EXPECT_THAT(repl->output(), ::testing::HasSubstr("help() lists what is here; Ctrl-D leaves."));
  EXPECT_TRUE(type(*repl, "help()", "page_of(p), browser_of(p), ctx_of(p), use(p)"));
  EXPECT_THAT(repl->recent(), ::testing::Not(::testing::HasSubstr("pause(")))
      << "the run's functions are only in belay attach";
  EXPECT_TRUE(type(*repl, "=page:evaluate('[1, null, {a: null}]')", "{ 1, null, { a = null } }"));
  leave(*repl);
}

TEST_F(ReplConsole, EqualsExpressionPrintsItsValue) {
  auto repl = start_repl();
  EXPECT_TRUE(type(*repl, "=1+1", "\n2\r\n"));
  EXPECT_TRUE(type(*repl, "6*7", "\n42\r\n")) << "a bare expression prints too";
  leave(*repl);
}

// libedit in the C library's default locale refused every non-ASCII key:
// the line arrived without it.
TEST_F(ReplConsole, NonAsciiTextTypedAtThePromptArrivesWhole) {
  auto repl = start_repl();
  EXPECT_TRUE(type(*repl, "=#'h\xc3\xa9llo \xe2\x82\xac'", "\n10\r\n"))
      << "\"h\u00e9llo \u20ac\" is 10 bytes of UTF-8";
  EXPECT_TRUE(type(*repl, "='\xf0\x9f\x99\x82'", "\"\xf0\x9f\x99\x82\""));
  leave(*repl);
}

TEST_F(ReplConsole, NavigatesAndReadsTheTitle) {
  auto repl = start_repl();
  EXPECT_TRUE(type(*repl, "page:navigate('" + fixture_.url("/page2") + "')", "/page2\","));
  EXPECT_TRUE(type(*repl, "=page:title()", "\"Page 2\""));
  leave(*repl);
}

TEST_F(ReplConsole, MultiLineForLoopContinuesUntilComplete) {
  auto repl = start_repl();
  EXPECT_TRUE(type(*repl, "for i = 1, 3 do", ">")) << "an incomplete chunk asks for more";
  EXPECT_TRUE(type(*repl, "  print('line' .. i * 100)", ">"));
  EXPECT_TRUE(type(*repl, "end", "line300"));
  const std::string out = repl->output();
  EXPECT_THAT(out, ::testing::HasSubstr("line100"));
  EXPECT_THAT(out, ::testing::HasSubstr("line200"));
  leave(*repl);
}

TEST_F(ReplConsole, ErrorThenAWorkingExpression) {
  auto repl = start_repl();
  EXPECT_TRUE(type(*repl, "belay.error('timeout', 'too slow')", "timeout: too slow ("));
  EXPECT_TRUE(type(*repl, "error('boom')", "script: stdin:1: boom"));
  EXPECT_TRUE(type(*repl, "=6*7", "\n42\r\n")) << "the prompt stays after errors";
  leave(*repl);
}

TEST_F(ReplConsole, RunawayExpressionIsStoppedByTheBudget) {
  auto repl = start_repl();
  EXPECT_TRUE(
      type(*repl, "while true do end", "sandbox: instruction quota exceeded", milliseconds(60000)));
  EXPECT_TRUE(type(*repl, "=6*7", "\n42\r\n"));
  leave(*repl);
}

TEST_F(ReplConsole, TabCompletesPageMethods) {
  auto repl = start_repl();
  repl->wait_raw_mode(seconds(10));
  repl->mark();
  repl->send("page:nav\t");
  ASSERT_TRUE(repl->expect("igate", seconds(10))) << "completion: " << repl->recent();
  repl->send("('" + fixture_.url("/page3") + "')\r");
  EXPECT_TRUE(repl->expect("/page3\",", seconds(30)) && repl->expect("> ", seconds(10)))
      << repl->recent();
  EXPECT_TRUE(type(*repl, "=page:title()", "\"Page 3\""));
  repl->wait_raw_mode(seconds(10));
  repl->mark();
  repl->send("=belay.js\t");
  EXPECT_TRUE(repl->expect("on", seconds(10))) << repl->recent();
  repl->send(".encode({1})\r");
  EXPECT_TRUE(repl->expect("\"[1]\"", seconds(10)) && repl->expect("> ", seconds(10)))
      << repl->recent();
  leave(*repl);
}

TEST_F(ReplConsole, HistorySurvivesARestart) {
  {
    auto repl = start_repl();
    EXPECT_TRUE(type(*repl, "=6*7 + 1000", "1042"));
    leave(*repl);
  }
  std::ifstream history(state() + "/repl_history");
  std::stringstream text;
  text << history.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr("1000")) << text.str();
  auto repl = start_repl();
  repl->wait_raw_mode(seconds(10));
  repl->mark();
  repl->send("\x1b[A");  // up arrow: the last line again
  repl->send("\r");
  EXPECT_TRUE(repl->expect("1042", seconds(20)) && repl->expect("> ", seconds(20)))
      << repl->recent();
  leave(*repl);
}

TEST_F(ReplConsole, CtrlCCancelsOnlyTheWaitInProgress) {
  auto repl = start_repl();
  EXPECT_TRUE(type(*repl, "page:navigate('" + fixture_.url("/page1") + "')", "/page1\","));
  repl->mark();
  repl->send_line("page:wait_for('#never-there', {timeout = 120000})");
  std::this_thread::sleep_for(milliseconds(1500));
  const auto sent = std::chrono::steady_clock::now();
  repl->send("\x03");  // Ctrl-C
  ASSERT_TRUE(repl->expect("cancelled: ", seconds(10))) << repl->recent();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, seconds(10));
  EXPECT_TRUE(repl->expect("(page:wait_for)", seconds(5))) << "the error names the call";
  EXPECT_TRUE(repl->expect("> ", seconds(10))) << repl->recent();
  EXPECT_TRUE(repl->running()) << "Ctrl-C ends the call, not the console";
  EXPECT_TRUE(type(*repl, "=page:title()", "\"Page 1\""));
  leave(*repl);
}

}  // namespace
}  // namespace belay::test
