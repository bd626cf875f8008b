// The supervisor's restart budget: max_restarts within period_ms, the fatal
// verdict and its text, and the relaunch delay that grows with each launch
// that failed in a row. Times are plain numbers: no loop, no browser.

#include "campaign/restart_budget.hpp"

#include <gtest/gtest.h>

namespace belay::campaign {
namespace {

SupervisorConfig supervisor(int max_restarts, uint64_t period_ms, uint64_t delay_ms = 3000) {
  SupervisorConfig config;
  config.max_restarts = max_restarts;
  config.period_ms = period_ms;
  config.delay_ms = delay_ms;
  return config;
}

TEST(RestartBudget, AllowsMaxRestartsWithinThePeriod) {
  RestartBudget budget(supervisor(3, 1000));
  EXPECT_TRUE(budget.try_spend(100));
  EXPECT_TRUE(budget.try_spend(200));
  EXPECT_TRUE(budget.try_spend(300));
}

TEST(RestartBudget, RefusesTheRestartPastMaxRestartsWithinThePeriod) {
  RestartBudget budget(supervisor(3, 1000));
  ASSERT_TRUE(budget.try_spend(100));
  ASSERT_TRUE(budget.try_spend(200));
  ASSERT_TRUE(budget.try_spend(300));
  EXPECT_FALSE(budget.try_spend(400));
  EXPECT_FALSE(budget.try_spend(1099));
}

TEST(RestartBudget, ForgetsRestartsOlderThanThePeriod) {
  RestartBudget budget(supervisor(2, 1000));
  ASSERT_TRUE(budget.try_spend(100));
  ASSERT_TRUE(budget.try_spend(600));
  EXPECT_FALSE(budget.try_spend(1099));
  // The restart at 100 is exactly one period old at 1100: out of it.
  EXPECT_TRUE(budget.try_spend(1100));
  EXPECT_FALSE(budget.try_spend(1599));
  EXPECT_TRUE(budget.try_spend(1600));
}

TEST(RestartBudget, ARefusedRestartIsNotCountedAgainstTheNextPeriod) {
  RestartBudget budget(supervisor(1, 1000));
  ASSERT_TRUE(budget.try_spend(100));
  ASSERT_FALSE(budget.try_spend(900));
  // Had the refusal at 900 been recorded, it would still be in the period.
  EXPECT_TRUE(budget.try_spend(1100));
}

TEST(RestartBudget, NoRestartIsAllowedWhenMaxRestartsIsZero) {
  RestartBudget budget(supervisor(0, 1000));
  EXPECT_FALSE(budget.try_spend(100));
}

TEST(RestartBudget, TheFirstDelayIsTheConfiguredOne) {
  EXPECT_EQ(RestartBudget(supervisor(3, 1000, 250)).next_delay_ms(), 250u);
}

TEST(RestartBudget, DelayDoublesWithEachFailedLaunchUpToSixteenTimes) {
  RestartBudget budget(supervisor(3, 1000, 100));
  const uint64_t expected[] = {200, 400, 800, 1600, 1600, 1600};
  for (uint64_t delay : expected) {
    budget.launch_failed();
    EXPECT_EQ(budget.next_delay_ms(), delay);
  }
}

TEST(RestartBudget, ASuccessfulLaunchBringsTheDelayBackToTheConfiguredOne) {
  RestartBudget budget(supervisor(3, 1000, 100));
  budget.launch_failed();
  budget.launch_failed();
  ASSERT_EQ(budget.next_delay_ms(), 400u);
  budget.launch_succeeded();
  EXPECT_EQ(budget.next_delay_ms(), 100u);
  budget.launch_failed();
  EXPECT_EQ(budget.next_delay_ms(), 200u);
}

TEST(RestartBudget, TheDelayDoesNotDependOnRestartsSpent) {
  RestartBudget budget(supervisor(3, 1000, 100));
  ASSERT_TRUE(budget.try_spend(100));
  ASSERT_TRUE(budget.try_spend(200));
  EXPECT_EQ(budget.next_delay_ms(), 100u);
}

TEST(RestartBudget, FatalReasonNamesTheBudgetAsTheEventsSayIt) {
  EXPECT_EQ(RestartBudget(supervisor(3, 1000)).fatal_reason(), "3 restarts within 1000 ms");
  EXPECT_EQ(RestartBudget(SupervisorConfig{}).fatal_reason(), "10 restarts within 600000 ms");
}

}  // namespace
}  // namespace belay::campaign
