// The heartbeat against a real Chromium: a page that stops answering while
// its browser answers is the page's miss; a browser stopped (SIGSTOP, by
// the PID the session launched) after answering its own probe but before
// the page's is the browser's miss, not the page's.

#include "campaign/health_monitor.hpp"
#include "support/lua_harness.hpp"
#include "support/run_loop.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace belay::test {
namespace {

using campaign::HealthConfig;
using campaign::HealthMonitor;

// Keeps the page's main thread busy for a while (not forever: the harness
// closes the browser afterwards either way).
const char* kBusyPage =
    "page:evaluate('setTimeout(() => { const end = Date.now() + 15000; "
    "while (Date.now() < end) {} }, 0)')";

struct Misses {
  std::optional<Error> browser;
  std::optional<Error> page;
  bool any() const { return browser.has_value() || page.has_value(); }
};

HealthMonitor::Handlers recording(Misses& misses) {
  HealthMonitor::Handlers handlers;
  handlers.browser_missed = [&misses](const Error& why) {
    if (!misses.any()) misses.browser = why;
  };
  handlers.page_missed = [&misses](const std::shared_ptr<browser::Page>&, const Error& why) {
    if (!misses.any()) misses.page = why;
  };
  return handlers;
}

TEST(HealthMonitor, APageBusyWhileItsBrowserAnswersIsThePagesMiss) {
  LuaHarness h;
  ASSERT_TRUE(h.run(kBusyPage).ok());
  Misses misses;
  HealthMonitor monitor(h.loop(), HealthConfig{500, 1000}, recording(misses));
  monitor.watch(h.shared_session());
  ASSERT_TRUE(run_until(
      h.loop(), [&] { return misses.any(); }, 20000));
  monitor.stop();
  EXPECT_FALSE(misses.browser.has_value()) << misses.browser->to_string();
  ASSERT_TRUE(misses.page.has_value());
  EXPECT_EQ(misses.page->kind, Kind::timeout) << misses.page->to_string();
}

// The page is busy, so its probe goes unanswered whatever the browser
// does; the browser is stopped half-way through the first round, after it
// answered Browser.getVersion. Before the confirming probe this was told
// as a page miss and the stopped browser was left to the next round.
TEST(HealthMonitor, ABrowserStoppedAfterItsOwnAnswerIsTheBrowsersMissNotThePages) {
  LuaHarness h;
  ASSERT_TRUE(h.run(kBusyPage).ok());
  const pid_t pid = h.session().pid();
  ASSERT_GT(pid, 0);
  Misses misses;
  const uint64_t interval_ms = 1000;
  HealthMonitor monitor(h.loop(), HealthConfig{interval_ms, 1000}, recording(misses));
  monitor.watch(h.shared_session());
  // The first round starts one interval after watch(); half a second on,
  // the browser has long answered its probe and the page has not.
  ASSERT_FALSE(run_until(
      h.loop(), [] { return false; }, interval_ms + 500));
  ASSERT_FALSE(misses.any()) << "a miss before the browser was stopped";
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const bool told = run_until(
      h.loop(), [&] { return misses.any(); }, 10000);
  ::kill(pid, SIGCONT);
  monitor.stop();
  ASSERT_TRUE(told);
  EXPECT_FALSE(misses.page.has_value()) << misses.page->to_string();
  ASSERT_TRUE(misses.browser.has_value());
  EXPECT_EQ(misses.browser->kind, Kind::timeout) << misses.browser->to_string();
}

}  // namespace
}  // namespace belay::test
