// The facts the supervisor policy gets about a profile's restarts: how long
// ago each was, newest first, and the launches that failed in a row. The
// rule itself is scripts/belay/supervisor.lua's (supervisor_policy_test.cpp).

#include "campaign/restart_history.hpp"

#include <gtest/gtest.h>

namespace belay::campaign {
namespace {

TEST(RestartHistory, SaysHowLongAgoEachRestartWasNewestFirst) {
  RestartHistory history;
  EXPECT_EQ(history.ms_ago(50), nlohmann::json::array());
  history.record(100);
  history.record(400);
  EXPECT_EQ(history.ms_ago(1000), (nlohmann::json{600, 900}));
}

TEST(RestartHistory, KeepsOnlyTheNewestRestarts) {
  RestartHistory history;
  for (uint64_t t = 0; t < RestartHistory::kKept + 5; ++t) history.record(t);
  const auto ago = history.ms_ago(RestartHistory::kKept + 5);
  ASSERT_EQ(ago.size(), RestartHistory::kKept);
  EXPECT_EQ(ago.front(), 1);
  EXPECT_EQ(ago.back(), RestartHistory::kKept);
}

TEST(RestartHistory, CountsFailedLaunchesInARowUntilOneSucceeds) {
  RestartHistory history;
  history.launch_failed();
  history.launch_failed();
  EXPECT_EQ(history.launch_failures(), 2);
  history.launch_succeeded();
  EXPECT_EQ(history.launch_failures(), 0);
}

}  // namespace
}  // namespace belay::campaign
