// Profiles and worker health in the SQLite store (sqlite_store.hpp).

#include "store/sqlite_store.hpp"

namespace belay::store::sqlite {
namespace {

constexpr const char* kSelectProfile =
    "SELECT name, error_streak, paused_until, restarts, fatal FROM profiles WHERE name = ?1";
constexpr const char* kSaveProfile =
    "INSERT INTO profiles (name, error_streak, paused_until, restarts, fatal) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
    "error_streak = excluded.error_streak, paused_until = excluded.paused_until, "
    "restarts = excluded.restarts, fatal = excluded.fatal";
constexpr const char* kSaveHealth =
    "INSERT INTO worker_health "
    "(profile, status, last_heartbeat, restart_count, current_item, last_error) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (profile) DO UPDATE SET "
    "status = excluded.status, last_heartbeat = excluded.last_heartbeat, "
    "restart_count = excluded.restart_count, current_item = excluded.current_item, "
    "last_error = excluded.last_error";

constexpr const char* kSelectProfiles =
    "SELECT name, error_streak, paused_until, restarts, fatal FROM profiles ORDER BY name";
constexpr const char* kSelectHealth =
    "SELECT profile, status, last_heartbeat, restart_count, current_item, last_error "
    "FROM worker_health ORDER BY profile";

ProfileRecord read_profile(const Query& row) {
  ProfileRecord p;
  p.name = row.text(0);
  p.error_streak = static_cast<int>(row.integer(1));
  p.paused_until_ms = row.integer(2);
  p.restarts = static_cast<int>(row.integer(3));
  p.fatal = row.integer(4) != 0;
  return p;
}

WorkerHealth read_health(const Query& row) {
  WorkerHealth h;
  h.profile = row.text(0);
  h.status = row.text(1);
  h.last_heartbeat_ms = row.integer(2);
  h.restart_count = static_cast<int>(row.integer(3));
  h.current_item = row.text(4);
  h.last_error = row.text(5);
  return h;
}

// Every row of `statement`, read by `read`.
template <typename T, typename Read>
Result<std::vector<T>> read_all(Statement& statement, std::string_view what, Read read) {
  Query q(statement);
  std::vector<T> rows;
  for (;;) {
    auto row = q.next(what);
    if (!row) return row.error();
    if (!row.value()) return rows;
    rows.push_back(read(q));
  }
}

}  // namespace

Result<ProfileRecord> SqliteStore::profile(const std::string& name) {
  auto st = statement(select_profile_, kSelectProfile);
  if (!st) return st.error();
  Query q(*st.value());
  auto row = q.bind(name).next("cannot read profile '" + name + "'");
  if (!row) return row.error();
  if (!row.value()) {
    ProfileRecord fresh;
    fresh.name = name;
    return fresh;
  }
  return read_profile(q);
}

Result<std::vector<ProfileRecord>> SqliteStore::profiles() {
  auto st = db_->prepare(kSelectProfiles);
  if (!st) return st.error();
  return read_all<ProfileRecord>(st.value(), "cannot read the profiles", read_profile);
}

std::optional<Error> SqliteStore::save_profile(const ProfileRecord& profile) {
  auto st = statement(save_profile_, kSaveProfile);
  if (!st) return st.error();
  auto saved = Query(*st.value())
                   .bind(profile.name)
                   .bind(profile.error_streak)
                   .bind(profile.paused_until_ms)
                   .bind(profile.restarts)
                   .bind(profile.fatal ? 1 : 0)
                   .run("cannot save profile '" + profile.name + "'");
  if (!saved) return saved.error();
  return std::nullopt;
}

std::optional<Error> SqliteStore::save_health(const WorkerHealth& health) {
  auto st = statement(save_health_, kSaveHealth);
  if (!st) return st.error();
  auto saved = Query(*st.value())
                   .bind(health.profile)
                   .bind(health.status)
                   .bind(health.last_heartbeat_ms)
                   .bind(health.restart_count)
                   .bind(health.current_item)
                   .bind(health.last_error)
                   .run("cannot save the health of profile '" + health.profile + "'");
  if (!saved) return saved.error();
  return std::nullopt;
}

Result<std::vector<WorkerHealth>> SqliteStore::health() {
  auto st = db_->prepare(kSelectHealth);
  if (!st) return st.error();
  return read_all<WorkerHealth>(st.value(), "cannot read worker health", read_health);
}

}  // namespace belay::store::sqlite
