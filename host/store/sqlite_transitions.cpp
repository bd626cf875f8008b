// The item transitions of the SQLite store (sqlite_store.hpp).
//
// A done item is final: mark_done, mark_failed and mark_pending on it change
// nothing and return no error (the first result stands, and no count moves
// twice); mark_running refuses it, as it refuses a running or skipped item.

#include "store/sqlite_store.hpp"

namespace belay::store::sqlite {
namespace {

using json = nlohmann::json;

constexpr const char* kSelectCurrent = "SELECT status, idx FROM items WHERE key = ?1";
constexpr const char* kMarkRunning =
    "UPDATE items SET status = 'running', attempts = attempts + 1, profile = ?2, updated_at = ?3 "
    "WHERE key = ?1 RETURNING " BELAY_ITEM_COLUMNS;
constexpr const char* kMarkDone =
    "UPDATE items SET status = 'done', result = ?2, error = NULL, saved = NULL, attempts = ?3, "
    "updated_at = ?4 WHERE key = ?1";
constexpr const char* kMarkFailed =
    "UPDATE items SET status = 'failed', error = ?2, attempts = ?3, updated_at = ?4 WHERE key = ?1";
constexpr const char* kMarkPending =
    "UPDATE items SET status = 'pending', attempts = ?2, updated_at = ?3 WHERE key = ?1";
constexpr const char* kMoveCounts =
    "UPDATE campaign SET last_index = coalesce(?1, last_index), done_count = done_count + ?2, "
    "failed_count = failed_count + ?3, updated_at = ?4 WHERE id = 1";
constexpr const char* kSaveAttempts =
    "UPDATE items SET attempts = ?2, updated_at = ?3 WHERE key = ?1 AND status = 'running'";
constexpr const char* kSaveCheckpoint =
    "UPDATE items SET saved = ?2, updated_at = ?3 WHERE key = ?1";

int delta(ItemStatus counted, ItemStatus from, ItemStatus to) {
  return static_cast<int>(to == counted) - static_cast<int>(from == counted);
}

}  // namespace

Result<std::optional<SqliteStore::Current>> SqliteStore::current(const std::string& key) {
  auto st = statement(select_current_, kSelectCurrent);
  if (!st) return st.error();
  Query q(*st.value());
  auto row = q.bind(key).next("cannot read item '" + key + "'");
  if (!row) return row.error();
  if (!row.value()) return std::optional<Current>();
  const std::string status = q.text(0);
  auto parsed = status_from_name(status);
  if (!parsed) return fail("item '" + key + "' has an unknown status '" + status + "'");
  return std::optional<Current>(Current{*parsed, q.integer(1)});
}

std::optional<Error> SqliteStore::move_counts(ItemStatus from, ItemStatus to,
                                              std::optional<int64_t> idx) {
  const int done = delta(ItemStatus::done, from, to);
  const int failed = delta(ItemStatus::failed, from, to);
  if (done == 0 && failed == 0 && !idx) return std::nullopt;
  auto st = statement(move_counts_, kMoveCounts);
  if (!st) return st.error();
  Query q(*st.value());
  if (idx) {
    q.bind(*idx);
  } else {
    q.bind_null();
  }
  auto changed = q.bind(done).bind(failed).bind(wall_clock_ms()).run("cannot update the campaign");
  if (!changed) return changed.error();
  return std::nullopt;
}

Result<ItemRecord> SqliteStore::mark_running(const std::string& key, const std::string& profile) {
  Transaction tx(*db_);
  if (auto error = tx.begin()) return *error;
  auto was = current(key);
  if (!was) return was.error();
  if (!was.value()) return no_item(key);
  const ItemStatus from = was.value()->status;
  if (from != ItemStatus::pending && from != ItemStatus::failed) {
    return fail("item '" + key + "' is " + std::string(status_name(from)) +
                ", not pending or failed");
  }
  auto st = statement(mark_running_, kMarkRunning);
  if (!st) return st.error();
  Result<ItemRecord> item = no_item(key);
  {
    Query q(*st.value());
    auto row =
        q.bind(key).bind(profile).bind(wall_clock_ms()).next("cannot mark '" + key + "' running");
    if (!row) return row.error();
    if (row.value()) item = read_item(q);
    auto end = q.run("cannot mark '" + key + "' running");
    if (!end) return end.error();
  }
  if (!item) return item.error();
  if (auto error = move_counts(from, ItemStatus::running, std::nullopt)) return *error;
  if (auto error = tx.commit()) return *error;
  return item;
}

std::optional<Error> SqliteStore::finish(const std::string& key, ItemStatus to, const json& payload,
                                         int attempts) {
  Transaction tx(*db_);
  if (auto error = tx.begin()) return error;
  auto was = current(key);
  if (!was) return was.error();
  if (!was.value()) return no_item(key);
  if (was.value()->status == ItemStatus::done) return std::nullopt;  // final
  const bool done = to == ItemStatus::done;
  auto st = done ? statement(mark_done_, kMarkDone) : statement(mark_failed_, kMarkFailed);
  if (!st) return st.error();
  auto changed = Query(*st.value())
                     .bind(key)
                     .bind_json(payload)
                     .bind(static_cast<int64_t>(attempts))
                     .bind(wall_clock_ms())
                     .run("cannot mark '" + key + "' " + std::string(status_name(to)));
  if (!changed) return changed.error();
  if (auto error = move_counts(was.value()->status, to, was.value()->idx)) return error;
  return tx.commit();
}

std::optional<Error> SqliteStore::mark_done(const std::string& key, const json& result,
                                            int attempts) {
  return finish(key, ItemStatus::done, result, attempts);
}

std::optional<Error> SqliteStore::mark_failed(const std::string& key, const json& error,
                                              int attempts) {
  return finish(key, ItemStatus::failed, error, attempts);
}

std::optional<Error> SqliteStore::mark_pending(const std::string& key, int attempts) {
  Transaction tx(*db_);
  if (auto error = tx.begin()) return error;
  auto was = current(key);
  if (!was) return was.error();
  if (!was.value()) return no_item(key);
  if (was.value()->status == ItemStatus::done) return std::nullopt;  // final
  auto st = statement(mark_pending_, kMarkPending);
  if (!st) return st.error();
  auto changed = Query(*st.value())
                     .bind(key)
                     .bind(static_cast<int64_t>(attempts))
                     .bind(wall_clock_ms())
                     .run("cannot mark '" + key + "' pending");
  if (!changed) return changed.error();
  if (auto error = move_counts(was.value()->status, ItemStatus::pending, std::nullopt)) {
    return error;
  }
  return tx.commit();
}

std::optional<Error> SqliteStore::save_attempts(const std::string& key, int attempts) {
  auto st = statement(save_attempts_, kSaveAttempts);
  if (!st) return st.error();
  auto changed = Query(*st.value())
                     .bind(key)
                     .bind(static_cast<int64_t>(attempts))
                     .bind(wall_clock_ms())
                     .run("cannot save the attempts of '" + key + "'");
  // No row changed: the item is no longer running (`belay cleanup
  // --emergency` put it back), and stays as it was.
  if (!changed) return changed.error();
  return std::nullopt;
}

std::optional<Error> SqliteStore::save_checkpoint(const std::string& key, const json& saved) {
  auto st = statement(save_checkpoint_, kSaveCheckpoint);
  if (!st) return st.error();
  auto changed = Query(*st.value())
                     .bind(key)
                     .bind_json(saved)
                     .bind(wall_clock_ms())
                     .run("cannot save the checkpoint of '" + key + "'");
  if (!changed) return changed.error();
  if (changed.value() == 0) return no_item(key);
  return std::nullopt;
}

}  // namespace belay::store::sqlite
