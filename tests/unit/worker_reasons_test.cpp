// The names of restart and pause reasons are the text of the `restarting`
// and `pause` events (docs/operations.md): they must stay what they were
// when they were strings.

#include "campaign/worker_reasons.hpp"

#include <gtest/gtest.h>

namespace belay::campaign {
namespace {

TEST(WorkerReasons, RestartReasonsAreNamedAsTheEventsSayThem) {
  EXPECT_EQ(name(RestartReason::disconnected), "disconnected");
  EXPECT_EQ(name(RestartReason::hung), "hung");
  EXPECT_EQ(name(RestartReason::launch_failed), "launch failed");
  EXPECT_EQ(name(RestartReason::script), "script");
  EXPECT_EQ(name(RestartReason::soft), "soft");
}

TEST(WorkerReasons, PauseReasonsAreNamedAsTheEventsSayThem) {
  EXPECT_EQ(name(PauseReason::persisted), "persisted");
  EXPECT_EQ(name(PauseReason::error_streak), "error_streak");
  EXPECT_EQ(name(PauseReason::script), "script");
  EXPECT_EQ(name(PauseReason::by_operator), "operator");
}

}  // namespace
}  // namespace belay::campaign
