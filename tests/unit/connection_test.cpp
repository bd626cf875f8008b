// Connection dispatch against a fake peer. A fake is used here, and only
// here, because these are the faults Chrome cannot be made to send on
// demand: garbage frames, replies with unknown ids or wrong types, and
// replies that never come.

#include "cdp/connection.hpp"
#include "support/fake_cdp_transport.hpp"
#include "support/run_loop.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

namespace belay::cdp {
namespace {

using FakeTransport = test::FakeCdpTransport;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    auto t = std::make_unique<FakeTransport>();
    fake_ = t.get();
    connection_ = std::make_unique<Connection>(&loop_, std::move(t));
  }
  void TearDown() override {
    connection_.reset();
    EXPECT_EQ(test::drain_and_close(&loop_), 0);
  }
  uint64_t send(const std::string& method, std::optional<Result<json>>* out,
                uint64_t timeout_ms = 30000, const std::string& session = "") {
    return connection_->send(Command{method, json::object(), session, timeout_ms, ""},
                             [out](Result<json> r) { *out = std::move(r); });
  }

  uv_loop_t loop_{};
  FakeTransport* fake_ = nullptr;
  std::unique_ptr<Connection> connection_;
};

TEST_F(ConnectionTest, ReplyCompletesTheCommandWithItsId) {
  std::optional<Result<json>> a, b;
  const uint64_t ida = send("A.a", &a);
  const uint64_t idb = send("B.b", &b);
  ASSERT_EQ(fake_->sent.size(), 2u);
  EXPECT_EQ(fake_->sent[0]["id"], ida);
  EXPECT_EQ(fake_->sent[1]["method"], "B.b");
  fake_->deliver(R"({"id":)" + std::to_string(idb) + R"(,"result":{"v":2}})");
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(a.has_value());
  EXPECT_EQ(b->value()["v"], 2);
  fake_->deliver(R"({"id":)" + std::to_string(ida) +
                 R"(,"error":{"code":-32000,"message":"Execution context was destroyed."}})");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->error().kind, Kind::context_destroyed);
  EXPECT_EQ(a->error().op, "A.a");
  EXPECT_EQ(connection_->pending_count(), 0u);
}

TEST_F(ConnectionTest, GarbageFramesAreCountedAndTheConnectionGoesOn) {
  std::optional<Result<json>> a;
  const uint64_t id = send("A.a", &a);
  for (const char* garbage :
       {"", "{", "not json", "[1,2,3]", "42", "\"str\"", R"({"id":"7","result":{}})",
        R"({"id":-3,"result":{}})", R"({"id":1.5,"result":{}})", R"({"method":42})",
        R"({"neither":true})", "{\"id\":1,\"result\":{}}\xff\xfe"}) {
    fake_->deliver(garbage);
  }
  EXPECT_EQ(connection_->protocol_errors(), 12u);
  // A reply with a NUL and junk after it is garbage too (the parser alone
  // would stop at the NUL and take it for a good reply).
  fake_->deliver(R"({"id":)" + std::to_string(id) + R"(,"result":{}})" + std::string(1, '\0') +
                 "junk");
  EXPECT_EQ(connection_->protocol_errors(), 13u);
  EXPECT_FALSE(a.has_value());
  fake_->deliver(R"({"id":)" + std::to_string(id) + R"(,"result":{}})");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->ok());
}

TEST_F(ConnectionTest, ReplyWithUnknownIdIsDropped) {
  fake_->deliver(R"({"id":99999,"result":{}})");
  EXPECT_EQ(connection_->dropped_replies(), 1u);
  EXPECT_EQ(connection_->protocol_errors(), 0u);
}

TEST_F(ConnectionTest, DeadlinePassesAsTimeoutAndALateReplyIsDropped) {
  std::optional<Result<json>> a, b;
  const uint64_t ida = send("Slow.one", &a, 50);
  send("Slow.two", &b, 5000);
  ASSERT_TRUE(test::run_until(
      &loop_, [&] { return a.has_value(); }, 2000));
  EXPECT_EQ(a->error().kind, Kind::timeout);
  EXPECT_THAT(a->error().message, ::testing::HasSubstr("50 ms"));
  EXPECT_FALSE(b.has_value());
  fake_->deliver(R"({"id":)" + std::to_string(ida) + R"(,"result":{}})");
  EXPECT_EQ(connection_->dropped_replies(), 1u);
}

TEST_F(ConnectionTest, TransportCloseFailsEveryPendingCommandAtOnce) {
  std::vector<std::optional<Result<json>>> out(5);
  for (auto& o : out) send("X.y", &o, 60000);
  fake_->drop(Error{Kind::browser_disconnected, "pipe closed by the browser", "", {}});
  for (auto& o : out) {
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->error().kind, Kind::browser_disconnected);
    EXPECT_EQ(o->error().op, "X.y");
  }
  EXPECT_FALSE(connection_->is_open());
  std::optional<Result<json>> later;
  send("X.z", &later);
  EXPECT_FALSE(later.has_value());  // never from inside send()
  ASSERT_TRUE(test::run_until(
      &loop_, [&] { return later.has_value(); }, 1000));
  EXPECT_EQ(later->error().kind, Kind::browser_disconnected);
}

TEST_F(ConnectionTest, BrowserExitReasonWinsOverTheEofThatFollows) {
  std::optional<Result<json>> a;
  send("X.y", &a);
  connection_->browser_exited(Error{Kind::browser_disconnected, "killed by signal 9", "", {}});
  ASSERT_TRUE(a.has_value());
  EXPECT_THAT(a->error().message, ::testing::HasSubstr("signal 9"));
}

TEST_F(ConnectionTest, EventsReachTheirSessionSubscribersOnly) {
  std::vector<std::string> seen;
  connection_->subscribe("S1", "Page.loadEventFired",
                         [&](const std::string& m, const json&) { seen.push_back("S1:" + m); });
  connection_->subscribe("S2", "",
                         [&](const std::string& m, const json&) { seen.push_back("S2:" + m); });
  const uint64_t browser_sub = connection_->subscribe(
      "", "Target.targetCreated", [&](const std::string& m, const json&) { seen.push_back(m); });
  fake_->deliver(R"({"method":"Page.loadEventFired","sessionId":"S1","params":{}})");
  fake_->deliver(R"({"method":"Page.frameNavigated","sessionId":"S1","params":{}})");
  fake_->deliver(R"({"method":"Runtime.consoleAPICalled","sessionId":"S2"})");
  fake_->deliver(R"({"method":"Target.targetCreated","params":{}})");
  connection_->unsubscribe(browser_sub);
  fake_->deliver(R"({"method":"Target.targetCreated","params":{}})");
  EXPECT_EQ(seen, (std::vector<std::string>{"S1:Page.loadEventFired", "S2:Runtime.consoleAPICalled",
                                            "Target.targetCreated"}));
}

TEST_F(ConnectionTest, DetachedSessionFailsItsCommandsAsTargetClosed) {
  std::optional<Result<json>> on_s1, on_s2;
  send("Runtime.evaluate", &on_s1, 60000, "S1");
  send("Runtime.evaluate", &on_s2, 60000, "S2");
  std::vector<std::string> ended;
  connection_->on_session_end([&](const SessionEnd& e) { ended.push_back(e.session_id); });
  fake_->deliver(R"({"method":"Target.detachedFromTarget","params":{"sessionId":"S1"}})");
  ASSERT_TRUE(on_s1.has_value());
  EXPECT_EQ(on_s1->error().kind, Kind::target_closed);
  EXPECT_FALSE(on_s2.has_value());
  EXPECT_EQ(ended, std::vector<std::string>{"S1"});
  std::optional<Result<json>> after;
  send("Runtime.evaluate", &after, 60000, "S1");
  ASSERT_TRUE(test::run_until(
      &loop_, [&] { return after.has_value(); }, 1000));
  EXPECT_EQ(after->error().kind, Kind::target_closed);
}

TEST_F(ConnectionTest, TargetCrashedFailsTheSessionUntilItReloads) {
  std::optional<Result<json>> pending;
  send("Runtime.evaluate", &pending, 60000, "S1");
  fake_->deliver(R"({"method":"Inspector.targetCrashed","sessionId":"S1","params":{}})");
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->error().kind, Kind::target_crashed);
  std::optional<Result<json>> evaluate, reload;
  send("Runtime.evaluate", &evaluate, 60000, "S1");
  send("Page.reload", &reload, 60000, "S1");
  ASSERT_TRUE(test::run_until(
      &loop_, [&] { return evaluate.has_value(); }, 1000));
  EXPECT_EQ(evaluate->error().kind, Kind::target_crashed);
  EXPECT_FALSE(reload.has_value());  // allowed through: it can bring the page back
  EXPECT_EQ(fake_->sent.back()["method"], "Page.reload");
  fake_->deliver(R"({"method":"Inspector.targetReloadedAfterCrash","sessionId":"S1"})");
  std::optional<Result<json>> again;
  send("Runtime.evaluate", &again, 60000, "S1");
  EXPECT_EQ(fake_->sent.back()["method"], "Runtime.evaluate");
}

TEST_F(ConnectionTest, CancelCompletesNowAndDropsTheLateReply) {
  std::optional<Result<json>> a;
  const uint64_t id = send("Slow.call", &a);
  EXPECT_TRUE(connection_->cancel(id, Error{Kind::cancelled, "cancelled by user", "", {}}));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->error().kind, Kind::cancelled);
  EXPECT_EQ(a->error().op, "Slow.call");
  fake_->deliver(R"({"id":)" + std::to_string(id) + R"(,"result":{}})");
  EXPECT_EQ(connection_->dropped_replies(), 1u);
  EXPECT_FALSE(connection_->cancel(id, Error{}));
}

TEST_F(ConnectionTest, ACallbackMayDestroyTheConnection) {
  std::optional<Result<json>> a, b;
  connection_->send(Command{"A.a", json::object(), "", 60000, ""}, [&](Result<json> r) {
    a = std::move(r);
    connection_.reset();
  });
  send("B.b", &b);
  fake_->drop(Error{Kind::browser_disconnected, "gone", "", {}});
  EXPECT_TRUE(a.has_value());
  EXPECT_EQ(connection_, nullptr);
}

}  // namespace
}  // namespace belay::cdp
