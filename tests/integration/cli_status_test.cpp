// `belay status --state DIR` end to end: the real binary on a state made
// through the store, on a damaged state and on no state at all (exit 2 and
// a message naming the file or directory), and never writing to the file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/belay_process.hpp"
#include "support/state_files.hpp"

namespace belay::test {
namespace {

using std::chrono::seconds;

class CliStatus : public ::testing::Test {
 protected:
  std::string state() const { return dir_.file("state"); }
  std::string db() const { return state() + "/belay.db"; }

  // A state with 5000 items of campaign "shop": 2 done, 1 failed, 1 running.
  void make_state() {
    auto opened = store::open_sqlite_store(state());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store::Store& s = *opened.value();
    std::vector<store::ItemKey> keys;
    for (int i = 1; i <= 5000; ++i) keys.push_back({"k" + std::to_string(i), i});
    ASSERT_TRUE(s.bind("shop", keys, "fp").ok());
    for (const char* key : {"k1", "k2", "k3", "k4"}) ASSERT_TRUE(s.mark_running(key, "p1").ok());
    ASSERT_FALSE(s.mark_done("k1", true, 1));
    ASSERT_FALSE(s.mark_done("k2", true, 1));
    ASSERT_FALSE(s.mark_failed("k3", {{"kind", "timeout"}}, 1));
    ASSERT_FALSE(s.save_profile({"p1", 1, 0, 2, false}));
    ASSERT_FALSE(s.save_health({"p1", "busy", 1700000000999, 2, "k4", ""}));
  }

  BelayRun status() { return run_belay({"status", "--state", state()}, dir_.path(), seconds(30)); }

  TempDir dir_{"belay-status-"};
};

TEST_F(CliStatus, PrintsTheCampaignAndItsProfilesWithoutWriting) {
  make_state();
  const std::string before = file_bytes(db());
  const BelayRun r = status();
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("CAMPAIGN")) << r.describe;
  // shop: 5000 items, 2 done, 1 failed, 4996 pending, 1 running.
  EXPECT_THAT(r.out, ::testing::HasSubstr("shop      5000   2     1       4996     1"))
      << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("p1       1")) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("2023-11-14T22:13:20.999Z  k4")) << r.describe;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(file_bytes(db()), before);
}

TEST_F(CliStatus, DamagedStateExits2NamingTheFile) {
  make_state();
  ASSERT_GT(damage_middle_page(db()), 1);
  const std::string before = file_bytes(db());
  const BelayRun r = status();
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_THAT(r.err, ::testing::HasSubstr("belay: " + db() + " is corrupt: ")) << r.describe;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(file_bytes(db()), before);
}

TEST_F(CliStatus, MissingStateExits2AndCreatesNothing) {
  const BelayRun r = status();
  EXPECT_EQ(r.exit_code, 2) << r.describe;
  EXPECT_EQ(r.err, "belay: no state in " + state() + "\n") << r.describe;
  EXPECT_FALSE(std::filesystem::exists(state()));
}

}  // namespace
}  // namespace belay::test
