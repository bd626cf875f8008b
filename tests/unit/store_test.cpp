// The durable state's contents (DESIGN.md "Durable state"): binding a run's
// items, resume after a kill, item transitions and the campaign checkpoint
// they move, profiles and worker health, and damaged JSON columns.

#include "store/store.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/belay_process.hpp"
#include "support/state_files.hpp"

namespace belay::store {
namespace {

using json = nlohmann::json;
using test::TempDir;

#define EXPECT_OK(expr)                                      \
  do {                                                       \
    const std::optional<Error> error_ = (expr);              \
    EXPECT_FALSE(error_.has_value()) << error_->to_string(); \
  } while (0)

// The message of an error that must happen.
std::string message_of(const std::optional<Error>& error) {
  EXPECT_TRUE(error.has_value()) << "expected an error";
  return error ? error->message : "";
}

std::vector<ItemKey> keys_of(const std::vector<std::string>& names) {
  std::vector<ItemKey> keys;
  for (size_t i = 0; i < names.size(); ++i) keys.push_back({names[i], static_cast<int64_t>(i + 1)});
  return keys;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  // Closes the store (as a killed host would leave it: no cleanup call)
  // and opens it again.
  void reopen() {
    store_.reset();
    auto opened = open_sqlite_store(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store_ = std::move(opened.value());
  }

  BindReport bind(const std::vector<std::string>& names, const std::string& fingerprint = "fp") {
    auto report = store_->bind("shop", keys_of(names), fingerprint);
    EXPECT_TRUE(report.ok()) << report.error().to_string();
    return report.ok() ? report.value() : BindReport{};
  }

  ItemRecord item(const std::string& key) {
    auto row = store_->item(key);
    EXPECT_TRUE(row.ok()) << row.error().to_string();
    EXPECT_TRUE(row.ok() && row.value().has_value()) << "no item " << key;
    return row.ok() && row.value() ? *row.value() : ItemRecord{};
  }

  CampaignRecord campaign() {
    auto c = store_->campaign();
    EXPECT_TRUE(c.ok() && c.value().has_value());
    return c.ok() && c.value() ? *c.value() : CampaignRecord{};
  }

  ItemRecord run(const std::string& key, const std::string& profile = "p1") {
    auto row = store_->mark_running(key, profile);
    EXPECT_TRUE(row.ok()) << row.error().to_string();
    return row.ok() ? row.value() : ItemRecord{};
  }

  std::string path() const { return dir_.file("belay.db"); }

  TempDir dir_{"belay-store-"};
  std::unique_ptr<Store> store_;
};

TEST(StoreStatus, NamesRoundTrip) {
  for (auto s : {ItemStatus::pending, ItemStatus::running, ItemStatus::done, ItemStatus::failed,
                 ItemStatus::skipped}) {
    EXPECT_EQ(status_from_name(status_name(s)), s);
  }
  EXPECT_EQ(status_name(ItemStatus::failed), "failed");
  EXPECT_FALSE(status_from_name("Done").has_value());
}

TEST_F(StoreTest, FirstBindInsertsPendingItemsInOrder) {
  const BindReport r = bind({"c", "a", "b"});
  EXPECT_TRUE(r.first_run);
  EXPECT_FALSE(r.items_changed);
  EXPECT_EQ(r.added, 3);
  EXPECT_EQ(r.missing, 0);
  EXPECT_EQ(r.requeued, 0);
  auto items = store_->items();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items.value().size(), 3u);
  EXPECT_EQ(items.value()[0].key, "c");
  EXPECT_EQ(items.value()[2].key, "b");
  EXPECT_EQ(items.value()[2].idx, 3);
  for (const auto& row : items.value()) {
    EXPECT_EQ(row.status, ItemStatus::pending);
    EXPECT_EQ(row.attempts, 0);
    EXPECT_TRUE(row.saved.is_null());
  }
  const CampaignRecord c = campaign();
  EXPECT_EQ(c.name, "shop");
  EXPECT_EQ(c.items_fingerprint, "fp");
  EXPECT_EQ(c.total, 3);
  EXPECT_GT(c.created_at_ms, 0);
}

TEST_F(StoreTest, SameItemsAgainChangeNothing) {
  bind({"a", "b"});
  reopen();
  const BindReport r = bind({"a", "b"});
  EXPECT_FALSE(r.first_run);
  EXPECT_FALSE(r.items_changed);
  EXPECT_EQ(r.added, 0);
  EXPECT_EQ(r.missing, 0);
}

TEST_F(StoreTest, ChangedItemsReportAddedAndMissingAndMoveIdx) {
  bind({"a", "b", "c"}, "v1");
  const BindReport r = bind({"b", "c", "d", "e"}, "v2");
  EXPECT_FALSE(r.first_run);
  EXPECT_TRUE(r.items_changed);
  EXPECT_EQ(r.added, 2);
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(item("b").idx, 1);
  EXPECT_EQ(item("e").idx, 4);
  EXPECT_EQ(item("a").status, ItemStatus::pending);  // kept, not deleted
  EXPECT_EQ(campaign().total, 4);
  EXPECT_EQ(campaign().items_fingerprint, "v2");
}

TEST_F(StoreTest, RunningItemsLeftByAKilledHostAreRequeuedWithTheirAttempts) {
  bind({"a", "b", "c"});
  run("a");
  run("b");
  ASSERT_FALSE(store_->mark_failed("b", {{"kind", "timeout"}}, 1).has_value());
  run("b");
  reopen();  // killed: a and b still running
  const BindReport r = bind({"a", "b", "c"});
  EXPECT_EQ(r.requeued, 2);
  EXPECT_EQ(item("a").status, ItemStatus::pending);
  EXPECT_EQ(item("a").attempts, 1);
  EXPECT_EQ(item("b").attempts, 2);
  EXPECT_EQ(item("a").profile, "p1");
}

TEST_F(StoreTest, DoneItemsStayDoneAcrossReopen) {
  bind({"a", "b"});
  EXPECT_EQ(run("a").attempts, 1);
  EXPECT_OK(store_->mark_done("a", {{"price", 12}}, 1));
  reopen();
  EXPECT_EQ(bind({"a", "b"}).requeued, 0);
  const ItemRecord a = item("a");
  EXPECT_EQ(a.status, ItemStatus::done);
  EXPECT_EQ(a.result, json({{"price", 12}}));
  EXPECT_EQ(a.attempts, 1);
  EXPECT_EQ(campaign().done, 1);
  auto again = store_->mark_running("a", "p1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, path() + ": item 'a' is done, not pending or failed");
}

TEST_F(StoreTest, MarkDoneOnADoneItemIsANoOpThatKeepsTheFirstResult) {
  bind({"a"});
  run("a");
  EXPECT_OK(store_->mark_done("a", "first", 1));
  EXPECT_OK(store_->mark_done("a", "second", 2));
  EXPECT_OK(store_->mark_failed("a", {{"kind", "timeout"}}, 3));
  EXPECT_OK(store_->mark_pending("a", 4));
  EXPECT_EQ(item("a").result, "first");
  EXPECT_EQ(item("a").status, ItemStatus::done);
  EXPECT_EQ(item("a").attempts, 1);
  EXPECT_EQ(campaign().done, 1);
  EXPECT_EQ(campaign().failed, 0);
}

TEST_F(StoreTest, TransitionsMoveCountsAndTheCampaignCheckpoint) {
  bind({"a", "b", "c", "d"});
  run("b");
  EXPECT_OK(store_->mark_done("b", true, 1));
  EXPECT_EQ(campaign().last_index, 2);
  run("d");
  EXPECT_OK(store_->mark_failed("d", {{"kind", "not_found"}}, 1));
  EXPECT_EQ(campaign().last_index, 4);
  EXPECT_EQ(campaign().failed, 1);
  run("c");
  auto counts = store_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts.value().pending, 1);
  EXPECT_EQ(counts.value().running, 1);
  EXPECT_EQ(counts.value().done, 1);
  EXPECT_EQ(counts.value().failed, 1);
  EXPECT_EQ(counts.value().total(), 4);
  // A rerun retries the failed item: it leaves the failed count.
  EXPECT_EQ(run("d").attempts, 2);
  EXPECT_EQ(campaign().failed, 0);
  EXPECT_OK(store_->mark_done("d", nullptr, 2));
  EXPECT_EQ(campaign().done, 2);
  EXPECT_EQ(item("d").error, nullptr);
  // A shutdown puts c back, attempts kept.
  EXPECT_OK(store_->mark_pending("c", 1));
  EXPECT_EQ(item("c").status, ItemStatus::pending);
  EXPECT_EQ(item("c").attempts, 1);
  reopen();
  EXPECT_EQ(campaign().done, 2);
  EXPECT_EQ(campaign().last_index, 4);
}

TEST_F(StoreTest, AttemptsOfARunningItemAreDurableAndOnlyWhileItRuns) {
  bind({"a", "b"});
  run("a");
  EXPECT_OK(store_->save_attempts("a", 3));
  reopen();
  EXPECT_EQ(item("a").attempts, 3);
  // A killed host's row goes back to pending with its tries kept.
  bind({"a", "b"});
  EXPECT_EQ(item("a").status, ItemStatus::pending);
  EXPECT_EQ(run("a").attempts, 4);
  // An item that is not running is left as it is.
  EXPECT_OK(store_->save_attempts("b", 7));
  EXPECT_EQ(item("b").attempts, 0);
  EXPECT_OK(store_->mark_done("a", 1, 4));
  EXPECT_OK(store_->save_attempts("a", 9));
  EXPECT_EQ(item("a").attempts, 4);
}

TEST_F(StoreTest, CheckpointIsHandedBackWhenTheItemRunsAgain) {
  bind({"a"});
  run("a");
  EXPECT_OK(store_->save_checkpoint("a", {{"page", 3}}));
  EXPECT_OK(store_->mark_failed("a", {{"kind", "timeout"}, {"message", "slow"}}, 1));
  reopen();
  bind({"a"});
  const ItemRecord again = run("a", "p2");
  EXPECT_EQ(again.saved, json({{"page", 3}}));
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(again.profile, "p2");
  EXPECT_EQ(again.error, json({{"kind", "timeout"}, {"message", "slow"}}));
  EXPECT_OK(store_->mark_done("a", 1, 2));
  EXPECT_TRUE(item("a").saved.is_null());
}

TEST_F(StoreTest, UnknownKeysAreErrorsNamingTheFileAndKey) {
  bind({"a"});
  auto running = store_->mark_running("zz", "p1");
  ASSERT_FALSE(running.ok());
  EXPECT_EQ(running.error().message, path() + ": no item 'zz'");
  EXPECT_EQ(message_of(store_->mark_done("zz", 1, 1)), path() + ": no item 'zz'");
  EXPECT_EQ(message_of(store_->save_checkpoint("zz", 1)), path() + ": no item 'zz'");
  auto none = store_->item("zz");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());
}

TEST_F(StoreTest, CampaignStateRoundTripsAndNeedsABind) {
  EXPECT_EQ(message_of(store_->save_campaign_state({{"x", 1}})),
            path() + ": no campaign is bound to this state yet");
  bind({"a"});
  EXPECT_TRUE(campaign().state.is_object());
  EXPECT_OK(store_->save_campaign_state({{"cursor", "p7"}, {"seen", {1, 2}}}));
  reopen();
  EXPECT_EQ(campaign().state, json({{"cursor", "p7"}, {"seen", {1, 2}}}));
}

TEST_F(StoreTest, ProfilesAndHealthRoundTrip) {
  auto fresh = store_->profile("p1");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh.value().name, "p1");
  EXPECT_EQ(fresh.value().restarts, 0);
  EXPECT_FALSE(fresh.value().fatal);

  EXPECT_OK(store_->save_profile({"p2", 3, 1700000000123, 4, true}));
  EXPECT_OK(store_->save_profile({"p1", 1, 0, 0, false}));
  EXPECT_OK(store_->save_profile({"p1", 2, 0, 1, false}));  // an update, not a second row
  EXPECT_OK(store_->save_health({"p1", "busy", 1700000000999, 1, "a", ""}));
  EXPECT_OK(store_->save_health({"p1", "recovering", 1700000001999, 2, "", "timeout: slow (x)"}));
  reopen();
  auto profiles = store_->profiles();
  ASSERT_TRUE(profiles.ok());
  ASSERT_EQ(profiles.value().size(), 2u);
  EXPECT_EQ(profiles.value()[0].name, "p1");
  EXPECT_EQ(profiles.value()[0].error_streak, 2);
  EXPECT_EQ(profiles.value()[0].restarts, 1);
  const ProfileRecord& p2 = profiles.value()[1];
  EXPECT_EQ(p2.error_streak, 3);
  EXPECT_EQ(p2.paused_until_ms, 1700000000123);
  EXPECT_EQ(p2.restarts, 4);
  EXPECT_TRUE(p2.fatal);
  auto health = store_->health();
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health.value().size(), 1u);
  EXPECT_EQ(health.value()[0].status, "recovering");
  EXPECT_EQ(health.value()[0].last_heartbeat_ms, 1700000001999);
  EXPECT_EQ(health.value()[0].restart_count, 2);
  EXPECT_EQ(health.value()[0].current_item, "");
  EXPECT_EQ(health.value()[0].last_error, "timeout: slow (x)");
}

TEST_F(StoreTest, GarbageJsonInAColumnIsAClearError) {
  bind({"a", "b"});
  store_.reset();
  test::exec_sqlite(path(),
                    "UPDATE items SET result = '{not json' WHERE key = 'b';"
                    "UPDATE campaign SET state_data = '[1,';");
  reopen();
  auto b = store_->item("b");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, Kind::config);
  EXPECT_EQ(b.error().message, path() + ": item 'b' has a corrupt result column (not JSON)");
  auto items = store_->items();
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().message, b.error().message);
  auto c = store_->campaign();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, path() + ": the campaign's state_data column is corrupt (not JSON)");
  EXPECT_TRUE(store_->item("a").ok());
}

TEST_F(StoreTest, InvalidUtf8InAResultIsStoredNotThrown) {
  bind({"a"});
  run("a");
  EXPECT_OK(store_->mark_done("a", std::string("caf\xC3", 4), 1));
  EXPECT_TRUE(item("a").result.is_string());
}

TEST_F(StoreTest, DuplicateKeysInTheListCountOnce) {
  const BindReport r = bind({"a", "b", "a"});
  EXPECT_EQ(r.added, 2);
  EXPECT_EQ(r.missing, 0);
  EXPECT_EQ(item("a").idx, 3);
}

}  // namespace
}  // namespace belay::store
