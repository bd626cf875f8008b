#pragma once
// The durable state of one campaign (DESIGN.md "Durable state"): items and
// their outcomes, the campaign checkpoint, profiles and worker health.
//
// The runner talks to this interface only, so a second backend (PostgreSQL,
// with leases for several hosts) is a new file, not a rewrite. Every call is
// synchronous and returns when its write is durable: an item is `done` only
// once mark_done has returned without an error.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace belay::store {

enum class ItemStatus { pending, running, done, failed, skipped };
std::string_view status_name(ItemStatus status);
std::optional<ItemStatus> status_from_name(std::string_view name);

// One item as the runner schedules it. The item's data stays in the items
// file; the store keeps what happened to it.
struct ItemRecord {
  std::string key;
  int64_t idx = 0;  // from 1, its place in the items file
  ItemStatus status = ItemStatus::pending;
  int attempts = 0;           // tries started, over every run
  nlohmann::json result;      // done: what run() returned
  nlohmann::json error;       // failed: {kind, message, op}
  nlohmann::json saved;       // the last ctx:checkpoint(), or null
  std::string profile;        // who ran it last
  int64_t updated_at_ms = 0;  // wall clock, ms since the epoch
};

// The item list a run binds to the state: keys in file order.
struct ItemKey {
  std::string key;
  int64_t idx = 0;
};

struct CampaignRecord {
  std::string name;
  std::string items_fingerprint;                    // of the items' content, last bound
  int64_t total = 0;                                // items in the file, last bound
  int64_t last_index = 0;                           // idx of the item finished last
  int64_t done = 0;                                 // items done now
  int64_t failed = 0;                               // items failed now (a retry takes one out)
  nlohmann::json state = nlohmann::json::object();  // free-form run state
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// What binding a run's items to the state found.
struct BindReport {
  bool first_run = false;      // the state was empty
  bool items_changed = false;  // the fingerprint differs from last run's
  int64_t added = 0;           // keys new to the state
  int64_t missing = 0;         // keys in the state, no longer in the file
  int64_t requeued = 0;        // `running` items left by a killed host
};

struct ProfileRecord {
  std::string name;
  int error_streak = 0;
  int64_t paused_until_ms = 0;  // wall clock; 0: not paused
  int restarts = 0;             // browser restarts, over every run
  bool fatal = false;
};

struct WorkerHealth {
  std::string profile;
  std::string status;  // starting ready busy recovering paused fatal stopped
  int64_t last_heartbeat_ms = 0;
  int restart_count = 0;
  std::string current_item;  // key, or empty
  std::string last_error;    // "kind: message (op)", or empty
};

struct Counts {
  int64_t pending = 0, running = 0, done = 0, failed = 0, skipped = 0;
  int64_t total() const { return pending + running + done + failed + skipped; }
};

class Store {
 public:
  virtual ~Store() = default;

  // Where the state lives, for messages ("…/belay.db").
  virtual const std::string& path() const = 0;

  // The campaign this state belongs to, or nothing for a new state.
  virtual Result<std::optional<CampaignRecord>> campaign() = 0;

  // Binds this run's items to the state. A state that belongs to another
  // campaign is a `config` error naming both. New keys are inserted as
  // pending, known keys get their new idx, keys gone from the file keep
  // their rows (and are reported as missing). `running` rows, left by a host
  // that was killed, go back to pending with their attempts kept.
  virtual Result<BindReport> bind(const std::string& campaign, const std::vector<ItemKey>& keys,
                                  const std::string& items_fingerprint) = 0;

  // Every item row, in idx order.
  virtual Result<std::vector<ItemRecord>> items() = 0;
  virtual Result<std::optional<ItemRecord>> item(const std::string& key) = 0;
  virtual Result<Counts> counts() = 0;

  // pending/failed → running on `profile`, attempts + 1. Returns the row
  // as it is now (attempts, saved checkpoint).
  virtual Result<ItemRecord> mark_running(const std::string& key, const std::string& profile) = 0;
  // The item's end, with its final attempts count. mark_done and
  // mark_failed also move the campaign checkpoint (last index, counts) in
  // the same transaction. A done item is final: mark_done, mark_failed and
  // mark_pending leave it as it is and return no error (the first result
  // stands, no count moves twice); mark_running refuses it.
  virtual std::optional<Error> mark_done(const std::string& key, const nlohmann::json& result,
                                         int attempts) = 0;
  virtual std::optional<Error> mark_failed(const std::string& key, const nlohmann::json& error,
                                           int attempts) = 0;
  // Back to pending (a shutdown interrupted it), attempts kept.
  virtual std::optional<Error> mark_pending(const std::string& key, int attempts) = 0;
  // A running item begins another try: its attempts count is durable before
  // the try runs, so a host killed mid-try does not forget the tries it made.
  virtual std::optional<Error> save_attempts(const std::string& key, int attempts) = 0;
  // ctx:checkpoint(tbl): durable partial progress, handed back as ctx.saved.
  virtual std::optional<Error> save_checkpoint(const std::string& key,
                                               const nlohmann::json& saved) = 0;
  virtual std::optional<Error> save_campaign_state(const nlohmann::json& state) = 0;

  // A profile never seen before comes back with zeros.
  virtual Result<ProfileRecord> profile(const std::string& name) = 0;
  virtual Result<std::vector<ProfileRecord>> profiles() = 0;
  virtual std::optional<Error> save_profile(const ProfileRecord& profile) = 0;

  virtual std::optional<Error> save_health(const WorkerHealth& health) = 0;
  virtual Result<std::vector<WorkerHealth>> health() = 0;
};

struct OpenOptions {
  // read_only: `belay status`; never creates, never writes, never migrates.
  bool read_only = false;
};

// Opens (or creates) `DIR/belay.db`. An existing file is checked before
// anything is written to it: not an SQLite file, not belay's (application
// id), a newer or older schema, or a failed `PRAGMA integrity_check` are
// `config` errors that name the file and leave it untouched.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& state_dir,
                                                 OpenOptions options = {});

}  // namespace belay::store
