#include "store/sqlite_db.hpp"

#include "core/json_text.hpp"

#include <chrono>

namespace belay::store::sqlite {

// --- Query -------------------------------------------------------------------

Query::~Query() {
  sqlite3_reset(statement_.handle());
  sqlite3_clear_bindings(statement_.handle());
}

Query& Query::bind(int64_t value) {
  const int rc = sqlite3_bind_int64(statement_.handle(), next_param_++, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::bind_null() {
  const int rc = sqlite3_bind_null(statement_.handle(), next_param_++);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::bind(std::string_view text) {
  const int rc = sqlite3_bind_text64(statement_.handle(), next_param_++, text.data(), text.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::bind_json(const nlohmann::json& value) {
  if (value.is_null()) return bind_null();
  // `replace`: a string with invalid UTF-8 must not throw out of the store.
  return bind(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<bool> Query::next(std::string_view what) {
  if (bind_rc_ != SQLITE_OK) return statement_.db().error(what, bind_rc_);
  const int rc = sqlite3_step(statement_.handle());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return statement_.db().error(what, rc);
}

Result<int64_t> Query::run(std::string_view what) {
  for (;;) {
    auto row = next(what);
    if (!row) return row.error();
    if (!row.value()) break;
  }
  return static_cast<int64_t>(sqlite3_changes64(statement_.db().handle()));
}

int64_t Query::integer(int column) const {
  return sqlite3_column_int64(statement_.handle(), column);
}

std::string Query::text(int column) const {
  const auto* data = sqlite3_column_text(statement_.handle(), column);
  if (data == nullptr) return {};
  const int size = sqlite3_column_bytes(statement_.handle(), column);
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(statement_.handle(), column) == SQLITE_NULL;
}

std::optional<nlohmann::json> Query::json(int column) const {
  if (is_null(column)) return nlohmann::json();
  auto value = parse_json_or_discard(text(column));
  if (value.is_discarded()) return std::nullopt;
  return value;
}

// --- Db ----------------------------------------------------------------------

Result<std::unique_ptr<Db>> Db::open(const std::string& path, int flags) {
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  // The handle exists even when the open failed; own it before anything else.
  auto db = std::make_unique<Db>(path, handle, (flags & SQLITE_OPEN_READONLY) != 0);
  if (handle == nullptr) return Error{Kind::config, path + ": cannot open (out of memory)", "", {}};
  if (rc != SQLITE_OK) return db->error("cannot open", rc);
  sqlite3_extended_result_codes(handle, 1);
  return db;
}

Db::~Db() {
  begin_ = Statement();
  commit_ = Statement();
  rollback_ = Statement();
  // close_v2: should a statement outlive us by mistake, close when it goes
  // instead of leaking the connection.
  sqlite3_close_v2(db_);
}

Error Db::error(std::string_view what) const { return error(what, sqlite3_errcode(db_)); }

Error Db::error(std::string_view what, int rc) const {
  std::string message = path_ + ": " + std::string(what) + " (";
  // errmsg describes the last call on the connection; a bind error or a
  // failed open may not have one that matches, errstr always does.
  const bool same = (sqlite3_extended_errcode(db_) & 0xff) == (rc & 0xff);
  const char* detail = same ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  message += detail != nullptr ? detail : "unknown error";
  message += ")";
  return Error{Kind::config, std::move(message), "", {}};
}

Result<Statement> Db::prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  Statement statement(this, stmt);
  if (rc != SQLITE_OK) return error("cannot prepare '" + std::string(sql) + "'", rc);
  return statement;
}

Result<Statement*> Db::cached(Statement& slot, std::string_view sql) {
  if (!slot.prepared()) {
    auto statement = prepare(sql, /*persistent=*/true);
    if (!statement) return statement.error();
    slot = std::move(statement.value());
  }
  return &slot;
}

std::optional<Error> Db::exec(const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(what, rc);
  return std::nullopt;
}

std::optional<Error> Db::step_once(Statement& slot, const char* sql, std::string_view what) {
  auto statement = cached(slot, sql);
  if (!statement) return statement.error();
  Query query(*statement.value());
  auto done = query.run(what);
  if (!done) return done.error();
  return std::nullopt;
}

std::optional<Error> Db::begin() {
  return step_once(begin_, "BEGIN IMMEDIATE", "cannot start a transaction");
}

std::optional<Error> Db::commit() { return step_once(commit_, "COMMIT", "cannot commit"); }

void Db::rollback() {
  // An I/O error may already have rolled the transaction back.
  if (sqlite3_get_autocommit(db_) != 0) return;
  (void)step_once(rollback_, "ROLLBACK", "cannot roll back");
}

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace belay::store::sqlite
