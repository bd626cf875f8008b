#pragma once
// The Store over SQLite (`DIR/belay.db`), internal to host/store: the
// campaign and item reads in sqlite_store.cpp, the item transitions in
// sqlite_transitions.cpp, profiles and worker health in sqlite_profiles.cpp.
//
// Every write is its own transaction, committed with synchronous=FULL before
// the call returns. The campaign row's done/failed counts are the number of
// items in that status now: bind recomputes them, each transition moves
// them in the transaction that moves the item.

#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace belay::store::sqlite {

// The columns ItemRecord is read from, in read_item's order.
#define BELAY_ITEM_COLUMNS "key, idx, status, attempts, result, error, saved, profile, updated_at"

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  SqliteStore(SqliteStore&&) = default;
  SqliteStore& operator=(SqliteStore&&) = default;
  ~SqliteStore() override = default;  // statements first, then the connection

  const std::string& path() const override { return db_->path(); }
  Result<std::optional<CampaignRecord>> campaign() override;
  Result<BindReport> bind(const std::string& campaign, const std::vector<ItemKey>& keys,
                          const std::string& items_fingerprint) override;
  Result<std::vector<ItemRecord>> items() override;
  Result<std::optional<ItemRecord>> item(const std::string& key) override;
  Result<Counts> counts() override;
  Result<ItemRecord> mark_running(const std::string& key, const std::string& profile) override;
  std::optional<Error> mark_done(const std::string& key, const nlohmann::json& result,
                                 int attempts) override;
  std::optional<Error> mark_failed(const std::string& key, const nlohmann::json& error,
                                   int attempts) override;
  std::optional<Error> mark_pending(const std::string& key, int attempts) override;
  std::optional<Error> save_attempts(const std::string& key, int attempts) override;
  std::optional<Error> save_checkpoint(const std::string& key,
                                       const nlohmann::json& saved) override;
  std::optional<Error> save_campaign_state(const nlohmann::json& state) override;
  Result<ProfileRecord> profile(const std::string& name) override;
  Result<std::vector<ProfileRecord>> profiles() override;
  std::optional<Error> save_profile(const ProfileRecord& profile) override;
  std::optional<Error> save_health(const WorkerHealth& health) override;
  Result<std::vector<WorkerHealth>> health() override;

 private:
  struct Current {
    ItemStatus status = ItemStatus::pending;
    int64_t idx = 0;
  };

  // "PATH: what", kind config.
  Error fail(const std::string& what) const;
  Error no_item(const std::string& key) const { return fail("no item '" + key + "'"); }
  Result<Statement*> statement(Statement& slot, const char* sql) { return db_->cached(slot, sql); }

  // The row `row` is on (BELAY_ITEM_COLUMNS); a corrupt column is an error
  // naming the key.
  Result<ItemRecord> read_item(const Query& row) const;
  std::optional<Error> claim_campaign(const std::string& name, const std::string& fingerprint,
                                      int64_t now, BindReport& report);
  std::optional<Error> merge_keys(const std::vector<ItemKey>& keys, int64_t now,
                                  BindReport& report);
  Result<std::optional<Current>> current(const std::string& key);
  // The campaign's counts for an item going from `from` to `to`, and its
  // last index when the item finished.
  std::optional<Error> move_counts(ItemStatus from, ItemStatus to, std::optional<int64_t> idx);
  // Ends an item (done or failed) with `payload` as its result or error.
  std::optional<Error> finish(const std::string& key, ItemStatus to, const nlohmann::json& payload,
                              int attempts);

  // The connection outlives every statement: members go in reverse order.
  std::unique_ptr<Db> db_;
  Statement select_item_, select_current_, mark_running_, mark_done_, mark_failed_, mark_pending_,
      move_counts_, save_checkpoint_, save_attempts_, select_profile_, save_profile_, save_health_;
};

}  // namespace belay::store::sqlite
