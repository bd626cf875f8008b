// The wear of a browser the soft restart policy is told between items:
// items and age since its launch, and its memory, read at most once per
// interval. Times are plain numbers and the memory a counter: no loop, no
// browser. When to restart is scripts/belay/supervisor.lua's
// (supervisor_policy_test.cpp).

#include "campaign/browser_wear.hpp"

#include <gtest/gtest.h>

namespace belay::campaign {
namespace {

constexpr uint64_t kInterval = 1000;

// A memory reading of `mb` that counts how often it was taken.
struct FakeMemory {
  uint64_t mb = 0;
  int reads = 0;
  BrowserWear::MemoryReader reader() {
    return [this] {
      ++reads;
      return mb;
    };
  }
};

TEST(BrowserWear, ALaunchStartsItemsAndAgeAgain) {
  BrowserWear wear(kInterval);
  wear.launched(100);
  wear.item_ended();
  wear.item_ended();
  EXPECT_EQ(wear.items_since_launch(), 2u);
  EXPECT_EQ(wear.age_ms(350), 250u);
  wear.launched(400);
  EXPECT_EQ(wear.items_since_launch(), 0u);
  EXPECT_EQ(wear.age_ms(400), 0u);
}

TEST(BrowserWear, MemoryIsReadAtMostOncePerIntervalAndTheLastReadingKept) {
  BrowserWear wear(kInterval);
  FakeMemory memory{10};
  wear.launched(100);
  EXPECT_EQ(wear.memory_mb(200, memory.reader()), 10u);
  memory.mb = 500;  // not read again before the interval is up
  EXPECT_EQ(wear.memory_mb(200 + kInterval - 1, memory.reader()), 10u);
  EXPECT_EQ(memory.reads, 1);
  EXPECT_EQ(wear.memory_mb(200 + kInterval, memory.reader()), 500u);
  EXPECT_EQ(memory.reads, 2);
}

TEST(BrowserWear, ANewBrowserIsReadAtOnceAndNotJudgedByTheOldOnesMemory) {
  BrowserWear wear(kInterval);
  FakeMemory memory{900};
  wear.launched(100);
  EXPECT_EQ(wear.memory_mb(200, memory.reader()), 900u);
  wear.launched(300);
  EXPECT_EQ(wear.memory_mb(300, {}), std::nullopt);
  memory.mb = 40;
  EXPECT_EQ(wear.memory_mb(310, memory.reader()), 40u);
}

TEST(BrowserWear, WithoutAProcessToReadThereIsNoFigureAndTheClockDoesNotStart) {
  BrowserWear wear(kInterval);
  FakeMemory memory{500};
  wear.launched(100);
  EXPECT_EQ(wear.memory_mb(200, {}), std::nullopt);
  // No reading was taken at 200, so one is due at once.
  EXPECT_EQ(wear.memory_mb(300, memory.reader()), 500u);
  EXPECT_EQ(memory.reads, 1);
}

}  // namespace
}  // namespace belay::campaign
