// The classification table, row by row: Chrome's texts → error kinds.

#include "cdp/classify.hpp"
#include "chrome/chrome_process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace belay::cdp {
namespace {

using json = nlohmann::json;

struct Case {
  int code;
  const char* message;
  Kind expected;
};

class ClassifyCdpError : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyCdpError, MapsChromeTextToKind) {
  const Case& c = GetParam();
  Error e = classify_cdp_error(json{{"code", c.code}, {"message", c.message}}, "page:evaluate");
  EXPECT_EQ(e.kind, c.expected) << c.message << " → " << kind_name(e.kind);
  EXPECT_EQ(e.op, "page:evaluate");
  EXPECT_EQ(e.cdp["code"], c.code);
  EXPECT_THAT(e.message, ::testing::HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(
    ChromeTexts, ClassifyCdpError,
    ::testing::Values(
        Case{-32000, "Cannot find context with specified id", Kind::context_destroyed},
        Case{-32000, "Execution context was destroyed.", Kind::context_destroyed},
        Case{-32000, "Inspected target navigated or closed", Kind::context_destroyed},
        Case{-32000, "Execution context with given id not found.", Kind::context_destroyed},
        Case{-32000, "Cannot find default execution context", Kind::context_destroyed},
        Case{-32000, "Target crashed", Kind::target_crashed},
        Case{-32001, "Session with given id not found.", Kind::target_closed},
        Case{-32602, "No target with given id found", Kind::target_closed},
        Case{-32000, "Not attached to an active page", Kind::target_closed},
        Case{-32000, "net::ERR_NAME_NOT_RESOLVED", Kind::navigation_failed},
        // Everything else is protocol, including the right text with the
        // wrong code (a different failure that happens to share words).
        Case{-32601, "'Foo.bar' wasn't found", Kind::protocol},
        Case{-32602, "Invalid parameters", Kind::protocol},
        Case{-32001, "Cannot find context with specified id", Kind::protocol},
        Case{-32000, "Some other server error", Kind::protocol}));

TEST(ClassifyTable, EveryRowIsReachableAndTested) {
  size_t count = 0;
  const ClassificationRow* rows = classification_table(&count);
  ASSERT_GT(count, 0u);
  for (size_t i = 0; i < count; ++i) {
    json error = {{"code", rows[i].code.value_or(-32000)}, {"message", std::string(rows[i].text)}};
    EXPECT_EQ(classify_cdp_error(error, "").kind, rows[i].kind) << rows[i].text;
  }
}

TEST(ClassifyTable, MalformedErrorObjectIsProtocolNotACrash) {
  for (const json& bad : {json(nullptr), json("text"), json::array({1, 2}),
                          json{{"code", "x"}, {"message", 42}}, json::object()}) {
    Error e = classify_cdp_error(bad, "op");
    EXPECT_EQ(e.kind, Kind::protocol) << bad.dump();
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(ClassifyEvents, TransportAndProcessEventsAreBrowserDisconnected) {
  EXPECT_EQ(transport_closed("pipe closed").kind, Kind::browser_disconnected);
  Error killed = chrome::browser_exited(0, 9);
  EXPECT_EQ(killed.kind, Kind::browser_disconnected);
  EXPECT_THAT(killed.message, ::testing::HasSubstr("signal 9"));
  EXPECT_THAT(chrome::browser_exited(3, 0).message, ::testing::HasSubstr("status 3"));
  EXPECT_EQ(deadline_passed("Runtime.evaluate", 500).kind, Kind::timeout);
  EXPECT_THAT(deadline_passed("Runtime.evaluate", 500).message, ::testing::HasSubstr("500 ms"));
  EXPECT_EQ(session_detached("gone").kind, Kind::target_closed);
  EXPECT_EQ(target_crashed().kind, Kind::target_crashed);
}

TEST(ErrorKinds, TableGivesNamesAndRetryDefaults) {
  EXPECT_EQ(kKindCount, 13);
  for (int i = 0; i < kKindCount; ++i) {
    const auto kind = static_cast<Kind>(i);
    EXPECT_EQ(kind_from_name(kind_name(kind)), kind);
  }
  EXPECT_TRUE(retryable_by_default(Kind::context_destroyed));
  EXPECT_TRUE(retryable_by_default(Kind::navigation_failed));
  EXPECT_FALSE(retryable_by_default(Kind::not_found));
  EXPECT_FALSE(retryable_by_default(Kind::config));
  EXPECT_FALSE(kind_from_name("nonsense").has_value());
  Error e{Kind::timeout, "late", "page:wait_for", {}};
  EXPECT_EQ(e.to_string(), "timeout: late (page:wait_for)");
  EXPECT_EQ((Error{Kind::script, "x", "", {}}).to_string(), "script: x");
}

}  // namespace
}  // namespace belay::cdp
