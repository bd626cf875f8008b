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

// The failed items close the report, one line each: kind and the message
// folded onto one line.
TEST_F(CliStatus, ListsFailedItemsOneLineEach) {
  make_state();
  {
    auto opened = store::open_sqlite_store(state());
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE(opened.value()->mark_running("k5", "p1").ok());
    ASSERT_FALSE(opened.value()->mark_failed(
        "k5", {{"kind", "not_found"}, {"message", "'#send' not found\n  after 10000 ms"}}, 3));
  }
  const BelayRun r = status();
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("FAILED ITEM  ATTEMPTS  KIND       MESSAGE\n"
                                          "k3           1         timeout\n"
                                          "k5           3         not_found  '#send' not found "
                                          "after 10000 ms\n"))
      << r.describe;
}

class CliResults : public CliStatus {
 protected:
  void make_results() {
    auto opened = store::open_sqlite_store(state());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store::Store& s = *opened.value();
    ASSERT_TRUE(s.bind("shop", {{"a", 1}, {"b,\"2\"", 2}, {"c", 3}}, "fp").ok());
    for (const char* key : {"a", "b,\"2\"", "c"}) ASSERT_TRUE(s.mark_running(key, "p1").ok());
    ASSERT_FALSE(s.mark_done("a", {{"sent", true}, {"id", 7}}, 1));
    ASSERT_FALSE(s.mark_failed(
        "b,\"2\"",
        {{"kind", "timeout"}, {"message", "Page.navigate timed out\nafter 500 ms"}, {"op", "page:navigate"}},
        2));
  }
  BelayRun results(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"results", "--state", state()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_belay(args, dir_.path(), seconds(30));
  }
};

TEST_F(CliResults, TableHasEachItemWithItsResultOrError) {
  make_results();
  const std::string before = file_bytes(db());
  const BelayRun r = results();
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  EXPECT_THAT(r.out, ::testing::StartsWith("KEY    INDEX  STATUS   ATTEMPTS  PROFILE  UPDATED"))
      << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("{\"id\":7,\"sent\":true}")) << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr(
                         "timeout: Page.navigate timed out after 500 ms (page:navigate)\n"))
      << r.describe;
  EXPECT_THAT(r.out, ::testing::HasSubstr("c      3      running")) << r.describe;
  EXPECT_EQ(file_bytes(db()), before) << "results wrote to the state";

  const BelayRun failed = results({"--status", "failed"});
  ASSERT_EQ(failed.exit_code, 0) << failed.describe;
  EXPECT_THAT(failed.out, ::testing::HasSubstr("b,\"2\"")) << failed.describe;
  EXPECT_THAT(failed.out, ::testing::Not(::testing::HasSubstr("sent"))) << failed.describe;
  EXPECT_EQ(results({"--status", "skipped"}).out, "no item is skipped\n");
}

TEST_F(CliResults, JsonLinesAndCsvCarryEverything) {
  make_results();
  const BelayRun j = results({"--json"});
  ASSERT_EQ(j.exit_code, 0) << j.describe;
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  for (size_t end; (end = j.out.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(nlohmann::json::parse(j.out.substr(start, end - start)));
  }
  ASSERT_EQ(lines.size(), 3u) << j.out;
  EXPECT_EQ(lines[0]["key"], "a");
  EXPECT_EQ(lines[0]["status"], "done");
  EXPECT_EQ(lines[0]["result"]["id"], 7);
  EXPECT_EQ(lines[1]["error"]["message"], "Page.navigate timed out\nafter 500 ms");
  EXPECT_EQ(lines[1]["attempts"], 2);
  EXPECT_TRUE(lines[2]["result"].is_null());

  const BelayRun c = results({"--csv", "--status", "failed"});
  ASSERT_EQ(c.exit_code, 0) << c.describe;
  EXPECT_EQ(c.out.substr(0, c.out.find("\r\n")),
            "key,index,status,attempts,profile,updated_at,result,error");
  EXPECT_THAT(c.out, ::testing::HasSubstr("\"b,\"\"2\"\"\",2,failed,2,p1,")) << c.out;
  EXPECT_THAT(c.out, ::testing::HasSubstr("\"Page.navigate timed out\\nafter 500 ms\"")) << c.out;
}

TEST_F(CliResults, BadStatusOrFormatsAreUsageErrors) {
  make_results();
  const BelayRun bad = results({"--status", "finished"});
  EXPECT_EQ(bad.exit_code, 2) << bad.describe;
  EXPECT_THAT(bad.err, ::testing::HasSubstr("--status: 'finished' is not a status")) << bad.describe;
  const BelayRun both = results({"--json", "--csv"});
  EXPECT_EQ(both.exit_code, 2) << both.describe;
  const BelayRun none = run_belay({"results", "--state", dir_.file("nope")}, dir_.path(), seconds(30));
  EXPECT_EQ(none.exit_code, 2) << none.describe;
  EXPECT_THAT(none.err, ::testing::HasSubstr("no state in")) << none.describe;
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
