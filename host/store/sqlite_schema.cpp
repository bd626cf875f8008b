#include "store/sqlite_schema.hpp"

#include "core/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace belay::store::sqlite {
namespace {

namespace fs = std::filesystem;

// Another process (a running `belay run` beside a `belay status`) may hold
// the write lock for one commit; wait for it rather than fail.
constexpr int kBusyTimeoutMs = 5000;

// JSON columns hold compact JSON text; times are ms since the epoch.
constexpr const char* kSchema = R"sql(
CREATE TABLE items (
  key        TEXT PRIMARY KEY,
  idx        INTEGER NOT NULL,
  status     TEXT NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  result     TEXT,
  error      TEXT,
  saved      TEXT,
  profile    TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX items_by_idx ON items(idx);
CREATE INDEX items_by_status ON items(status, idx);
CREATE TABLE campaign (
  id                INTEGER PRIMARY KEY CHECK (id = 1),
  name              TEXT NOT NULL,
  items_fingerprint TEXT NOT NULL DEFAULT '',
  total             INTEGER NOT NULL DEFAULT 0,
  last_index        INTEGER NOT NULL DEFAULT 0,
  done_count        INTEGER NOT NULL DEFAULT 0,
  failed_count      INTEGER NOT NULL DEFAULT 0,
  state_data        TEXT NOT NULL DEFAULT '{}',
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE TABLE profiles (
  name         TEXT PRIMARY KEY,
  error_streak INTEGER NOT NULL DEFAULT 0,
  paused_until INTEGER NOT NULL DEFAULT 0,
  restarts     INTEGER NOT NULL DEFAULT 0,
  fatal        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE worker_health (
  profile        TEXT PRIMARY KEY,
  status         TEXT NOT NULL DEFAULT '',
  last_heartbeat INTEGER NOT NULL DEFAULT 0,
  restart_count  INTEGER NOT NULL DEFAULT 0,
  current_item   TEXT NOT NULL DEFAULT '',
  last_error     TEXT NOT NULL DEFAULT ''
);
)sql";

Error config_error(std::string message) { return Error{Kind::config, std::move(message), "", {}}; }

// The first column of the first row of `sql` as text. Returns the sqlite
// result code; the validation below needs the code, not just a message.
int first_text(Db& db, const char* sql, std::string& out) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      out.clear();
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  return rc;
}

std::string detail(Db& db, int rc) {
  const bool same = (sqlite3_extended_errcode(db.handle()) & 0xff) == (rc & 0xff);
  return same ? sqlite3_errmsg(db.handle()) : sqlite3_errstr(rc);
}

// A failure while reading the file for validation: what it says about it.
Error unreadable(Db& db, int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return config_error(db.path() + " is not a belay state file (" + detail(db, rc) + ")");
    case SQLITE_CORRUPT:
      return config_error(db.path() + " is corrupt: " + detail(db, rc));
    default:
      return db.error("cannot read", rc);
  }
}

struct Identity {
  int64_t application_id = 0;
  int64_t user_version = 0;
  int64_t objects = 0;  // tables and indexes
  bool fresh() const { return application_id == 0 && user_version == 0 && objects == 0; }
};

Result<Identity> read_identity(Db& db) {
  Identity identity;
  std::string text;
  // Reading page 1 is where a file that is not SQLite shows.
  int rc = first_text(db, "PRAGMA application_id", text);
  if (rc != SQLITE_OK) return unreadable(db, rc);
  identity.application_id = std::strtoll(text.c_str(), nullptr, 10);
  rc = first_text(db, "PRAGMA user_version", text);
  if (rc != SQLITE_OK) return unreadable(db, rc);
  identity.user_version = std::strtoll(text.c_str(), nullptr, 10);
  rc = first_text(db, "SELECT count(*) FROM sqlite_master", text);
  if (rc != SQLITE_OK) return unreadable(db, rc);
  identity.objects = std::strtoll(text.c_str(), nullptr, 10);
  return identity;
}

std::optional<Error> check_identity(Db& db, const Identity& identity) {
  if (identity.application_id != kApplicationId) {
    return config_error(db.path() + " is not a belay state file (another program's SQLite " +
                        "database: application_id " + std::to_string(identity.application_id) +
                        ", belay's is " + std::to_string(kApplicationId) + ")");
  }
  if (identity.user_version != kSchemaVersion) {
    return config_error(db.path() + " has schema version " + std::to_string(identity.user_version) +
                        "; this belay reads version " + std::to_string(kSchemaVersion) +
                        (identity.user_version > kSchemaVersion ? ": use a newer belay" : ""));
  }
  return std::nullopt;
}

// integrity_check's first row may read "*** in database main ***\nPage 60:
// btreeInitPage() returns error code 11": report the first line that says
// what is wrong.
std::string first_problem(const std::string& report) {
  size_t start = 0;
  while (start < report.size()) {
    size_t end = report.find('\n', start);
    if (end == std::string::npos) end = report.size();
    const std::string line = report.substr(start, end - start);
    if (!line.empty() && line.rfind("*** in database", 0) != 0) return line;
    start = end + 1;
  }
  return report;
}

// `full`: integrity_check, which also checks every index against its table;
// otherwise quick_check, which checks the pages and records (corrupt pages,
// bad record formats) in about a quarter of the time.
std::optional<Error> check_integrity(Db& db, bool full) {
  std::string first;
  // (1): stop at the first problem; only the first line is reported.
  const int rc =
      first_text(db, full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)", first);
  if (rc != SQLITE_OK) return unreadable(db, rc);
  if (first != "ok") return config_error(db.path() + " is corrupt: " + first_problem(first));
  return std::nullopt;
}

// Settings for a connection that writes; only ever after validation, since
// switching to WAL writes to the file.
std::optional<Error> prepare_for_writing(Db& db) {
  std::string mode;
  const int rc = first_text(db, "PRAGMA journal_mode=WAL", mode);
  if (rc != SQLITE_OK) return db.error("cannot switch to WAL", rc);
  if (mode != "wal") return config_error(db.path() + ": cannot switch to WAL (still " + mode + ")");
  return db.exec("PRAGMA synchronous=FULL", "cannot set synchronous=FULL");
}

std::optional<Error> create_schema(Db& db) {
  const std::string sql = std::string("BEGIN IMMEDIATE;") + kSchema +
                          "PRAGMA application_id=" + std::to_string(kApplicationId) +
                          ";PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";COMMIT;";
  if (auto error = db.exec(sql.c_str(), "cannot create the schema")) {
    db.rollback();
    return error;
  }
  return std::nullopt;
}

// Makes sure DIR/belay.db exists (0600) unless read_only. False: it does
// not exist (read_only).
Result<bool> ensure_file(const std::string& state_dir, const std::string& path, bool read_only) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return config_error(path + " is not a belay state file (not a file)");
    return true;
  }
  if (errno != ENOENT) return config_error(path + ": " + std::strerror(errno));
  if (read_only) return false;
  // Profiles' user-data-dirs (cookies) will live here too.
  if (!fs::is_directory(state_dir)) {
    if (auto error = make_private_dirs(state_dir))
      return config_error("cannot create the state directory: " + *error);
  }
  // SQLite would create it 0644; its -wal and -shm files copy the mode.
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    return config_error("cannot create " + path + ": " + std::strerror(errno));
  if (fd >= 0) ::close(fd);
  return true;
}

}  // namespace

Result<std::unique_ptr<Db>> open_state_db(const std::string& state_dir, bool read_only) {
  const std::string path = (fs::path(state_dir) / "belay.db").string();
  auto exists = ensure_file(state_dir, path, read_only);
  if (!exists) return exists.error();
  if (!exists.value()) return config_error("no state in " + state_dir);

  // SQLite deletes the -wal file when the last connection closes, so one
  // left behind means a host (or a reader) ended without closing, or is
  // still running: the file then gets the full check.
  std::error_code ignored;
  const bool closed_cleanly = !fs::exists(path + "-wal", ignored);
  auto opened = Db::open(path, read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  if (!opened) return opened.error();
  Db& db = *opened.value();
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  auto identity = read_identity(db);
  if (!identity) return identity.error();
  // 16 MiB of page cache (the default is 2): a 100 000-item state is about
  // 12 MB, and bind, items() and the integrity check each walk all of it.
  // Set after the identity is read, so a file that is no database is
  // reported as such.
  if (auto error = db.exec("PRAGMA cache_size=-16384", "cannot set the cache size")) return *error;
  if (identity.value().fresh()) {
    // An empty file: just created, or a creation that never committed.
    if (read_only) return config_error("no state in " + state_dir + " (" + path + " is empty)");
    if (auto error = prepare_for_writing(db)) return *error;
    if (auto error = create_schema(db)) return *error;
    return opened;
  }
  if (auto error = check_identity(db, identity.value())) return *error;
  if (auto error = check_integrity(db, !closed_cleanly)) return *error;
  if (!read_only) {
    if (auto error = prepare_for_writing(db)) return *error;
  }
  return opened;
}

}  // namespace belay::store::sqlite
