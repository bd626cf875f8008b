// The soft restart rule between items: item count, age, memory cap (read at
// most once per interval), what each is called in the event and the
// figures it carries. Times are plain numbers and the memory a counter: no
// loop, no browser.

#include "campaign/soft_restart.hpp"

#include <gtest/gtest.h>

namespace belay::campaign {
namespace {

SoftRestartConfig soft(uint64_t items, uint64_t ms, uint64_t memory_mb) {
  SoftRestartConfig config;
  config.items = items;
  config.ms = ms;
  config.memory_mb = memory_mb;
  return config;
}

constexpr uint64_t kInterval = 1000;

// A memory reading of `mb` that counts how often it was taken.
struct FakeMemory {
  uint64_t mb = 0;
  int reads = 0;
  SoftRestart::MemoryReader reader() {
    return [this] {
      ++reads;
      return mb;
    };
  }
};

TEST(SoftRestart, ReasonsAreNamedAsTheEventSaysThem) {
  EXPECT_EQ(name(SoftRestartReason::items), "items");
  EXPECT_EQ(name(SoftRestartReason::age), "age");
  EXPECT_EQ(name(SoftRestartReason::memory), "memory");
}

TEST(SoftRestart, DueAfterTheConfiguredItems) {
  SoftRestart rule(soft(3, 0, 0), kInterval);
  rule.launched(100);
  rule.item_ended();
  rule.item_ended();
  EXPECT_FALSE(rule.due(200, {}));
  rule.item_ended();
  auto due = rule.due(200, {});
  ASSERT_TRUE(due);
  EXPECT_EQ(due->reason, SoftRestartReason::items);
  EXPECT_EQ(due->params, nlohmann::json::object());
  EXPECT_EQ(rule.items_since_launch(), 3u);
}

TEST(SoftRestart, ALaunchStartsTheItemCountAgain) {
  SoftRestart rule(soft(2, 0, 0), kInterval);
  rule.launched(100);
  rule.item_ended();
  rule.item_ended();
  ASSERT_TRUE(rule.due(200, {}));
  rule.launched(300);
  EXPECT_EQ(rule.items_since_launch(), 0u);
  rule.item_ended();
  EXPECT_FALSE(rule.due(400, {}));
}

TEST(SoftRestart, ZeroItemsAndZeroAgeAreNeverDue) {
  SoftRestart rule(soft(0, 0, 0), kInterval);
  rule.launched(100);
  for (int i = 0; i < 1000; ++i) rule.item_ended();
  EXPECT_FALSE(rule.due(100 + 100 * 3600 * 1000ull, {}));
}

TEST(SoftRestart, DueOnceTheBrowserReachesItsAge) {
  SoftRestart rule(soft(0, 1000, 0), kInterval);
  rule.launched(500);
  EXPECT_FALSE(rule.due(1499, {}));
  auto due = rule.due(1500, {});
  ASSERT_TRUE(due);
  EXPECT_EQ(due->reason, SoftRestartReason::age);
  EXPECT_EQ(rule.age_ms(1500), 1000u);
}

TEST(SoftRestart, ItemsAreToldBeforeAge) {
  SoftRestart rule(soft(1, 1000, 0), kInterval);
  rule.launched(0);
  rule.item_ended();
  auto due = rule.due(5000, {});
  ASSERT_TRUE(due);
  EXPECT_EQ(due->reason, SoftRestartReason::items);
}

TEST(SoftRestart, MemoryOverTheCapIsDueWithItsFigures) {
  SoftRestart rule(soft(0, 0, 100), kInterval);
  FakeMemory memory{150};
  rule.launched(100);
  auto due = rule.due(200, memory.reader());
  ASSERT_TRUE(due);
  EXPECT_EQ(due->reason, SoftRestartReason::memory);
  EXPECT_EQ(due->params, (nlohmann::json{{"memory_mb", 150}, {"cap_mb", 100}}));
}

TEST(SoftRestart, MemoryAtTheCapIsDueAndUnderItIsNot) {
  SoftRestart rule(soft(0, 0, 100), kInterval);
  FakeMemory memory{99};
  rule.launched(100);
  EXPECT_FALSE(rule.due(200, memory.reader()));
  memory.mb = 100;
  EXPECT_TRUE(rule.due(200 + kInterval, memory.reader()));
}

TEST(SoftRestart, MemoryIsReadAtMostOncePerInterval) {
  SoftRestart rule(soft(0, 0, 100), kInterval);
  FakeMemory memory{10};
  rule.launched(100);
  EXPECT_FALSE(rule.due(200, memory.reader()));
  EXPECT_EQ(memory.reads, 1);
  memory.mb = 500;  // over the cap, but not read before the interval is up
  EXPECT_FALSE(rule.due(200 + kInterval - 1, memory.reader()));
  EXPECT_EQ(memory.reads, 1);
  EXPECT_TRUE(rule.due(200 + kInterval, memory.reader()));
  EXPECT_EQ(memory.reads, 2);
}

TEST(SoftRestart, NoCapMeansTheMemoryIsNeverRead) {
  SoftRestart rule(soft(0, 0, 0), kInterval);
  FakeMemory memory{1u << 20};
  rule.launched(100);
  EXPECT_FALSE(rule.due(200, memory.reader()));
  EXPECT_EQ(memory.reads, 0);
}

TEST(SoftRestart, ItemsOrAgeDueSpareTheMemoryReading) {
  SoftRestart rule(soft(1, 0, 100), kInterval);
  FakeMemory memory{500};
  rule.launched(100);
  rule.item_ended();
  auto due = rule.due(200, memory.reader());
  ASSERT_TRUE(due);
  EXPECT_EQ(due->reason, SoftRestartReason::items);
  EXPECT_EQ(memory.reads, 0);
}

TEST(SoftRestart, WithoutAProcessToReadTheMemoryClockDoesNotStart) {
  SoftRestart rule(soft(0, 0, 100), kInterval);
  FakeMemory memory{500};
  rule.launched(100);
  EXPECT_FALSE(rule.due(200, {}));
  // No reading was taken at 200, so one is due at once.
  EXPECT_TRUE(rule.due(300, memory.reader()));
  EXPECT_EQ(memory.reads, 1);
}

}  // namespace
}  // namespace belay::campaign
