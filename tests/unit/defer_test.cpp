#include "core/defer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace belay {
namespace {

TEST(Defer, RunsOnTheNextTurnAndLeavesNoHandle) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  bool ran = false;
  defer(&loop, [&] { ran = true; });
  EXPECT_FALSE(ran);  // never inside the call
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_TRUE(ran);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(Defer, AfterRunsInOrderOfTheirDelaysAndLeavesNoHandle) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  std::vector<int> order;
  uv_update_time(&loop);
  const uint64_t start = uv_now(&loop);
  uint64_t second_at = 0;
  defer_after(&loop, 40, [&] {
    order.push_back(2);
    uv_update_time(&loop);
    second_at = uv_now(&loop);
  });
  defer_after(&loop, 0, [&] {
    order.push_back(1);
    // One deferred from inside another runs too.
    defer_after(&loop, 60, [&] { order.push_back(3); });
  });
  EXPECT_TRUE(order.empty());
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(second_at - start, 40u);  // not before its delay: a lower bound only
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace belay
