// Garbage from the browser is dropped, and its owner hears of each piece.
// A fake WebSocket peer: Chromium cannot be made to send garbage, but a
// --connect URL can answer with anything.

#include "browser/browser_session.hpp"
#include "support/fake_ws_peer.hpp"
#include "support/run_loop.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace belay::campaign {
namespace {

using browser::BrowserSession;
using browser::BrowserSpec;
using browser::SessionHooks;
using test::FakeWsPeer;

TEST(DroppedMessages, GarbageFromTheBrowserReachesTheSessionsOwner) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  FakeWsPeer peer(true, [](int fd) {
    FakeWsPeer::await_client(fd);  // the first page's Target.createTarget
    FakeWsPeer::write_all(fd, FakeWsPeer::text_frame("this is not json") +
                                  FakeWsPeer::text_frame(R"({"id":"seven"})") +
                                  FakeWsPeer::text_frame(R"({"params":{}})"));
    FakeWsPeer::drain(fd);
  });
  {
    BrowserSpec spec;
    spec.profile = "p";
    spec.connect_url = peer.url();
    spec.connect_timeout_ms = 5000;
    BrowserSession session(&loop, spec);
    std::vector<Error> dropped;
    SessionHooks hooks;
    hooks.dropped_message = [&](const Error& why) { dropped.push_back(why); };
    session.set_hooks(std::move(hooks));
    std::optional<std::optional<Error>> started;
    session.start([&](std::optional<Error> e) { started = std::move(e); });
    test::run_until(
        &loop, [&] { return dropped.size() >= 3; }, 10000);
    ASSERT_EQ(dropped.size(), 3u);
    for (const Error& why : dropped) EXPECT_EQ(why.kind, Kind::protocol) << why.to_string();
    EXPECT_THAT(dropped[0].message, ::testing::HasSubstr("unparseable")) << dropped[0].message;
    EXPECT_THAT(dropped[1].message, ::testing::HasSubstr("non-numeric id")) << dropped[1].message;
    EXPECT_THAT(dropped[2].message, ::testing::HasSubstr("neither id nor method"))
        << dropped[2].message;
    EXPECT_FALSE(started.has_value()) << "garbage ended the start";
    bool closed = false;
    session.close([&] { closed = true; });
    test::run_until(
        &loop, [&] { return closed; }, 10000);
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(test::drain_and_close(&loop), 0);
}

}  // namespace
}  // namespace belay::campaign
