// The campaign and item reads of the SQLite store, and binding a run's
// items to it (sqlite_store.hpp).

#include "store/sqlite_store.hpp"

#include <string_view>
#include <unordered_map>

#include "store/sqlite_schema.hpp"

namespace belay::store {
namespace sqlite {
namespace {

using json = nlohmann::json;

constexpr const char* kSelectItem = "SELECT " BELAY_ITEM_COLUMNS " FROM items WHERE key = ?1";
constexpr const char* kSelectCampaign =
    "SELECT name, items_fingerprint, total, last_index, done_count, failed_count, state_data, "
    "created_at, updated_at FROM campaign WHERE id = 1";
constexpr const char* kInsertItem =
    "INSERT INTO items (key, idx, status, updated_at) VALUES (?1, ?2, 'pending', ?3)";
constexpr const char* kMoveItem = "UPDATE items SET idx = ?2 WHERE key = ?1";

}  // namespace

Error SqliteStore::fail(const std::string& what) const {
  return Error{Kind::config, db_->path() + ": " + what, "", {}};
}

Result<ItemRecord> SqliteStore::read_item(const Query& row) const {
  ItemRecord item;
  item.key = row.text(0);
  item.idx = row.integer(1);
  const std::string status = row.text(2);
  auto parsed = status_from_name(status);
  if (!parsed) return fail("item '" + item.key + "' has an unknown status '" + status + "'");
  item.status = *parsed;
  item.attempts = static_cast<int>(row.integer(3));
  const std::pair<json*, const char*> columns[] = {
      {&item.result, "result"}, {&item.error, "error"}, {&item.saved, "saved"}};
  for (int i = 0; i < 3; ++i) {
    auto value = row.json(4 + i);
    if (!value) {
      return fail("item '" + item.key + "' has a corrupt " + columns[i].second +
                  " column (not JSON)");
    }
    *columns[i].first = std::move(*value);
  }
  item.profile = row.text(7);
  item.updated_at_ms = row.integer(8);
  return item;
}

Result<std::optional<CampaignRecord>> SqliteStore::campaign() {
  auto st = db_->prepare(kSelectCampaign);
  if (!st) return st.error();
  Query q(st.value());
  auto row = q.next("cannot read the campaign");
  if (!row) return row.error();
  if (!row.value()) return std::optional<CampaignRecord>();
  CampaignRecord c;
  c.name = q.text(0);
  c.items_fingerprint = q.text(1);
  c.total = q.integer(2);
  c.last_index = q.integer(3);
  c.done = q.integer(4);
  c.failed = q.integer(5);
  auto state = q.json(6);
  if (!state) return fail("the campaign's state_data column is corrupt (not JSON)");
  c.state = state->is_null() ? json::object() : std::move(*state);
  c.created_at_ms = q.integer(7);
  c.updated_at_ms = q.integer(8);
  return std::optional<CampaignRecord>(std::move(c));
}

// The campaign row: another campaign's is an error, a missing one is
// created (a first run).
std::optional<Error> SqliteStore::claim_campaign(const std::string& name,
                                                 const std::string& fingerprint, int64_t now,
                                                 BindReport& report) {
  auto existing = campaign();
  if (!existing) return existing.error();
  if (existing.value()) {
    const CampaignRecord& c = *existing.value();
    if (c.name != name) {
      return Error{Kind::config,
                   db_->path() + " belongs to campaign '" + c.name + "', not '" + name +
                       "': use another --state",
                   "",
                   {}};
    }
    report.items_changed = c.items_fingerprint != fingerprint;
    return std::nullopt;
  }
  report.first_run = true;
  auto st = db_->prepare(
      "INSERT INTO campaign (id, name, created_at, updated_at) VALUES (1, ?1, ?2, ?2)");
  if (!st) return st.error();
  auto inserted = Query(st.value()).bind(name).bind(now).run("cannot create the campaign");
  if (!inserted) return inserted.error();
  return std::nullopt;
}

// Inserts new keys, moves known keys to their new idx, counts the added and
// the missing. The known keys are read once and matched in memory: a resume
// with nothing changed writes nothing.
std::optional<Error> SqliteStore::merge_keys(const std::vector<ItemKey>& keys, int64_t now,
                                             BindReport& report) {
  struct Known {
    int64_t idx;
    bool listed;
  };
  std::unordered_map<std::string, Known> known;
  known.reserve(keys.size());
  {
    auto st = db_->prepare("SELECT key, idx FROM items");
    if (!st) return st.error();
    Query q(st.value());
    for (;;) {
      auto row = q.next("cannot read the items");
      if (!row) return row.error();
      if (!row.value()) break;
      known.emplace(q.text(0), Known{q.integer(1), false});
    }
  }
  auto insert = db_->prepare(kInsertItem);
  if (!insert) return insert.error();
  auto move = db_->prepare(kMoveItem);
  if (!move) return move.error();
  for (const ItemKey& k : keys) {
    auto [it, added] = known.try_emplace(k.key, Known{k.idx, true});
    Result<int64_t> written = int64_t{0};
    if (added) {
      ++report.added;
      written =
          Query(insert.value()).bind(k.key).bind(k.idx).bind(now).run("cannot bind the items");
    } else if (it->second.idx != k.idx) {
      it->second.idx = k.idx;  // a key listed twice ends at its last place
      written = Query(move.value()).bind(k.key).bind(k.idx).run("cannot bind the items");
    }
    if (!written) return written.error();
    it->second.listed = true;
  }
  for (const auto& entry : known) report.missing += entry.second.listed ? 0 : 1;
  return std::nullopt;
}

Result<BindReport> SqliteStore::bind(const std::string& campaign_name,
                                     const std::vector<ItemKey>& keys,
                                     const std::string& items_fingerprint) {
  Transaction tx(*db_);
  if (auto error = tx.begin()) return *error;
  BindReport report;
  const int64_t now = wall_clock_ms();
  if (auto error = claim_campaign(campaign_name, items_fingerprint, now, report)) return *error;
  if (auto error = merge_keys(keys, now, report)) return *error;

  auto requeue =
      db_->prepare("UPDATE items SET status = 'pending', updated_at = ?1 WHERE status = 'running'");
  if (!requeue) return requeue.error();
  auto requeued = Query(requeue.value()).bind(now).run("cannot requeue running items");
  if (!requeued) return requeued.error();
  report.requeued = requeued.value();

  auto update = db_->prepare(
      "UPDATE campaign SET items_fingerprint = ?1, total = ?2, updated_at = ?3, "
      "done_count = (SELECT count(*) FROM items WHERE status = 'done'), "
      "failed_count = (SELECT count(*) FROM items WHERE status = 'failed') WHERE id = 1");
  if (!update) return update.error();
  auto updated = Query(update.value())
                     .bind(items_fingerprint)
                     .bind(static_cast<int64_t>(keys.size()))
                     .bind(now)
                     .run("cannot update the campaign");
  if (!updated) return updated.error();
  if (auto error = tx.commit()) return *error;
  return report;
}

Result<std::vector<ItemRecord>> SqliteStore::items() {
  auto st = db_->prepare("SELECT " BELAY_ITEM_COLUMNS " FROM items ORDER BY idx");
  if (!st) return st.error();
  Query q(st.value());
  std::vector<ItemRecord> items;
  for (;;) {
    auto row = q.next("cannot read the items");
    if (!row) return row.error();
    if (!row.value()) break;
    auto item = read_item(q);
    if (!item) return item.error();
    items.push_back(std::move(item.value()));
  }
  return items;
}

Result<std::optional<ItemRecord>> SqliteStore::item(const std::string& key) {
  auto st = statement(select_item_, kSelectItem);
  if (!st) return st.error();
  Query q(*st.value());
  auto row = q.bind(key).next("cannot read item '" + key + "'");
  if (!row) return row.error();
  if (!row.value()) return std::optional<ItemRecord>();
  auto item = read_item(q);
  if (!item) return item.error();
  return std::optional<ItemRecord>(std::move(item.value()));
}

Result<Counts> SqliteStore::counts() {
  auto st = db_->prepare("SELECT status, count(*) FROM items GROUP BY status");
  if (!st) return st.error();
  Query q(st.value());
  Counts counts;
  for (;;) {
    auto row = q.next("cannot count the items");
    if (!row) return row.error();
    if (!row.value()) break;
    const std::string status = q.text(0);
    int64_t* slot[] = {&counts.pending, &counts.running, &counts.done, &counts.failed,
                       &counts.skipped};
    auto parsed = status_from_name(status);
    if (!parsed) return fail("an item has an unknown status '" + status + "'");
    *slot[static_cast<size_t>(*parsed)] = q.integer(1);
  }
  return counts;
}

std::optional<Error> SqliteStore::save_campaign_state(const json& state) {
  auto st = db_->prepare("UPDATE campaign SET state_data = ?1, updated_at = ?2 WHERE id = 1");
  if (!st) return st.error();
  auto changed = Query(st.value())
                     .bind_json(state.is_null() ? json::object() : state)
                     .bind(wall_clock_ms())
                     .run("cannot save the campaign state");
  if (!changed) return changed.error();
  if (changed.value() == 0) return fail("no campaign is bound to this state yet");
  return std::nullopt;
}

}  // namespace sqlite

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& state_dir,
                                                 OpenOptions options) {
  auto db = sqlite::open_state_db(state_dir, options.read_only);
  if (!db) return db.error();
  return std::unique_ptr<Store>(std::make_unique<sqlite::SqliteStore>(std::move(db.value())));
}

}  // namespace belay::store
