// Page actions that go on after a reply: click and type send their input
// events once the element's point or focus is known, wait_for looks again
// after a navigation, and a stopped action sends no input. A fake peer is used because Chromium
// cannot be made to answer at the chosen moment: just after the Page object was destroyed (a
// supervisor replacing a hung page, a ladder reopening it) while its session still lives, or just
// after the wait's caller gave up.

#include "browser/browser.hpp"
#include "browser/element_actions.hpp"
#include "browser/page.hpp"
#include "support/fake_page_test.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace belay::browser {
namespace {

using nlohmann::json;

ClickOptions within(uint64_t timeout_ms) {
  ClickOptions options;
  options.timeout_ms = timeout_ms;
  return options;
}

class PageActionLifetime : public test::FakePageTest {
 protected:
  // Fails the latest `method` as Chromium does when a navigation destroyed
  // the context the call ran in.
  void context_destroyed(const std::string& method) {
    for (auto it = fake_->sent.rbegin(); it != fake_->sent.rend(); ++it) {
      if ((*it)["method"] != method) continue;
      fake_->deliver("{\"id\":" + (*it)["id"].dump() +
                     R"(,"error":{"code":-32000,"message":"Execution context was destroyed."}})");
      return;
    }
    ADD_FAILURE() << method << " was not sent";
  }
  void run_for(uint64_t ms) {
    uv_update_time(&loop_);
    const uint64_t until = uv_now(&loop_) + ms;
    test::run_until(
        &loop_, [&] { return uv_now(&loop_) >= until; }, ms + 1000);
  }
};

TEST_F(PageActionLifetime, AClickWhosePageWentBeforeItsPointCameEndsTargetClosed) {
  std::optional<Result<json>> clicked;
  click(*page_, "#b", within(1000), [&](Result<json> r) { clicked = std::move(r); });
  page_.reset();
  ASSERT_TRUE(fake_->reply("Runtime.evaluate", R"({"result":{"value":{"ok":true,"x":5,"y":6}}})"));
  ASSERT_TRUE(clicked.has_value());
  ASSERT_FALSE(clicked->ok());
  EXPECT_EQ(clicked->error().kind, Kind::target_closed);
  // The host names the CDP method it waited on; page:click is the binding's name.
  EXPECT_EQ(clicked->error().op, "Runtime.evaluate");
  EXPECT_EQ(fake_->count("Input.dispatchMouseEvent"), 0u);
}

TEST_F(PageActionLifetime, AClickWhosePageWentBetweenItsMouseEventsSendsNoMore) {
  std::optional<Result<json>> clicked;
  click(*page_, "#b", within(1000), [&](Result<json> r) { clicked = std::move(r); });
  ASSERT_TRUE(fake_->reply("Runtime.evaluate", R"({"result":{"value":{"ok":true,"x":5,"y":6}}})"));
  ASSERT_EQ(fake_->count("Input.dispatchMouseEvent"), 1u);
  page_.reset();
  ASSERT_TRUE(fake_->reply("Input.dispatchMouseEvent", "{}"));
  ASSERT_TRUE(clicked.has_value());
  ASSERT_FALSE(clicked->ok());
  EXPECT_EQ(clicked->error().kind, Kind::target_closed);
  EXPECT_EQ(fake_->count("Input.dispatchMouseEvent"), 1u);
}

TEST_F(PageActionLifetime, TypingIntoAPageThatWentBeforeItsFocusCameEndsTargetClosed) {
  std::optional<Result<json>> typed;
  type_text(*page_, "#to", "hello", 0, 1000, [&](Result<json> r) { typed = std::move(r); });
  page_.reset();
  ASSERT_TRUE(fake_->reply("Runtime.evaluate", R"({"result":{"value":{"ok":true}}})"));
  ASSERT_TRUE(typed.has_value());
  ASSERT_FALSE(typed->ok());
  EXPECT_EQ(typed->error().kind, Kind::target_closed);
  EXPECT_EQ(typed->error().op, "Runtime.evaluate");
  EXPECT_EQ(fake_->count("Input.dispatchKeyEvent"), 0u);
}

TEST_F(PageActionLifetime, AClickStoppedWhileItsElementWasFoundSendsNoInput) {
  std::optional<Result<json>> clicked;
  auto stop = click(*page_, "#b", within(1000), [&](Result<json> r) { clicked = std::move(r); });
  stop();
  ASSERT_TRUE(fake_->reply("Runtime.evaluate", R"({"result":{"value":{"ok":true,"x":5,"y":6}}})"));
  ASSERT_TRUE(clicked.has_value());
  ASSERT_FALSE(clicked->ok());
  EXPECT_EQ(clicked->error().kind, Kind::cancelled);
  EXPECT_EQ(fake_->count("Input.dispatchMouseEvent"), 0u);
}

TEST_F(PageActionLifetime, TheReasonTheElementWasNotReadyBecomesANotFoundError) {
  std::optional<Result<json>> clicked;
  click(*page_, "#send", within(1000), [&](Result<json> r) { clicked = std::move(r); });
  ASSERT_TRUE(fake_->reply(
      "Runtime.evaluate",
      R"({"result":{"value":{"ok":false,"reason":"'#send' is covered by '#banner'"}}})"));
  ASSERT_TRUE(clicked.has_value());
  ASSERT_FALSE(clicked->ok());
  EXPECT_EQ(clicked->error().kind, Kind::not_found);
  EXPECT_EQ(clicked->error().message, "'#send' is covered by '#banner' after 1000 ms");
}

TEST_F(PageActionLifetime, AWaitLooksAgainAfterANavigationUnlessItsCallerStoppedIt) {
  // Not stopped: the navigation sends it to the new document.
  std::optional<Result<json>> kept;
  auto stop_kept = wait_for(*page_, "#x", WaitForOptions{ElementState::attached, 5000},
                            [&](Result<json> r) { kept = std::move(r); });
  ASSERT_EQ(fake_->count("Runtime.evaluate"), 1u);
  context_destroyed("Runtime.evaluate");
  test::run_until(
      &loop_, [&] { return fake_->count("Runtime.evaluate") == 2; }, 2000);
  EXPECT_EQ(fake_->count("Runtime.evaluate"), 2u);
  EXPECT_FALSE(kept.has_value());
  ASSERT_TRUE(fake_->reply("Runtime.evaluate", R"({"result":{"value":{"ok":true}}})"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_TRUE(kept->ok());

  // Stopped (a Ctrl-C, an item deadline): the navigation ends it.
  std::optional<Result<json>> stopped;
  auto stop = wait_for(*page_, "#x", WaitForOptions{ElementState::attached, 5000},
                       [&](Result<json> r) { stopped = std::move(r); });
  ASSERT_EQ(fake_->count("Runtime.evaluate"), 3u);
  stop();
  context_destroyed("Runtime.evaluate");
  run_for(200);  // ten times the pause before a second look
  EXPECT_EQ(fake_->count("Runtime.evaluate"), 3u);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_FALSE(stopped->ok());
}

TEST_F(PageActionLifetime, AWaitStoppedDuringItsPauseLooksNoMoreAndEndsOnce) {
  int ends = 0;
  auto stop =
      wait_for(*page_, "#x", WaitForOptions{ElementState::attached, 5000}, [&](Result<json> r) {
        ++ends;
        EXPECT_FALSE(r.ok());
        if (!r.ok()) {
          EXPECT_EQ(r.error().kind, Kind::cancelled);
        }
      });
  context_destroyed("Runtime.evaluate");  // the pause before looking again starts
  stop();
  run_for(200);
  EXPECT_EQ(fake_->count("Runtime.evaluate"), 1u);
  EXPECT_EQ(ends, 1);
  stop();  // a second stop, after the end, is harmless
}

}  // namespace
}  // namespace belay::browser
