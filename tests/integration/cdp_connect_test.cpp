// --connect: attaching to a Chromium that the test started itself.

#include "browser/browser.hpp"
#include "browser/page.hpp"
#include "support/chromium.hpp"
#include "support/fixture_server.hpp"
#include "support/run_loop.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace belay::test {
namespace {

TEST(ConnectTest, AttachesToABrowserItDidNotStartAndLeavesItRunning) {
  ForeignChromium foreign;
  ASSERT_FALSE(foreign.ws_url().empty()) << "the test's own Chromium did not come up";
  BackgroundFixtureServer fixture;
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    std::optional<std::optional<Error>> ready;
    auto browser = browser::Browser::connect(&loop, foreign.ws_url(), 10000,
                                             [&](std::optional<Error> e) { ready = std::move(e); });
    ASSERT_TRUE(run_until(
        &loop, [&] { return ready.has_value(); }, 15000));
    ASSERT_FALSE(ready->has_value()) << (*ready)->to_string();
    EXPECT_EQ(browser->process(), nullptr);

    std::optional<Result<std::unique_ptr<browser::Page>>> page;
    browser->new_page([&](Result<std::unique_ptr<browser::Page>> p) { page = std::move(p); });
    ASSERT_TRUE(run_until(
        &loop, [&] { return page.has_value(); }, 15000));
    ASSERT_TRUE(page->ok()) << page->error().to_string();
    auto& p = *page->value();
    auto nav = wait_result(&loop, [&](browser::Page::Done d) {
      p.navigate(fixture.url("/page2"), browser::NavigateOptions{}, d);
    });
    ASSERT_TRUE(nav.ok()) << nav.error().to_string();
    auto title = wait_result(&loop, [&](browser::Page::Done d) {
      p.evaluate("document.title", 5000, "page:evaluate", d);
    });
    ASSERT_TRUE(title.ok());
    EXPECT_EQ(title.value(), "Page 2");
    page->value().reset();
    // Detaching must not end a browser belay did not start.
    browser->connection().close();
    run_until(
        &loop, [] { return false; }, 200);
  }
  EXPECT_EQ(drain_and_close(&loop), 0);
  EXPECT_TRUE(foreign.alive());
}

TEST(ConnectTest, BadEndpointIsAClearError) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    std::optional<std::optional<Error>> ready;
    auto browser = browser::Browser::connect(&loop, "ws://127.0.0.1:1/devtools/browser/x", 5000,
                                             [&](std::optional<Error> e) { ready = std::move(e); });
    ASSERT_TRUE(run_until(
        &loop, [&] { return ready.has_value(); }, 6000));
    ASSERT_TRUE(ready->has_value());
    EXPECT_EQ((*ready)->kind, Kind::browser_disconnected);
    EXPECT_THAT((*ready)->message, ::testing::HasSubstr("127.0.0.1:1")) << (*ready)->message;
  }
  {
    std::optional<std::optional<Error>> ready;
    auto browser = browser::Browser::connect(&loop, "http://nope", 5000,
                                             [&](std::optional<Error> e) { ready = std::move(e); });
    ASSERT_TRUE(run_until(
        &loop, [&] { return ready.has_value(); }, 6000));
    ASSERT_TRUE(ready->has_value());
    EXPECT_EQ((*ready)->kind, Kind::config);
  }
  EXPECT_EQ(drain_and_close(&loop), 0);
}

}  // namespace
}  // namespace belay::test
