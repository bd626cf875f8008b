#pragma once
// RAII over the sqlite3 C API, as the store uses it: one connection, its
// prepared statements, one use of a statement at a time, and a transaction
// guard. Every failure becomes a `config` error that names the file and
// carries sqlite3_errmsg: a full disk, a lost permission or a damaged file is
// something the user has to fix, not something a retry cures.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace belay::store::sqlite {

class Db;

// A prepared statement. Finalized when it goes; it must go before its Db.
class Statement {
 public:
  Statement() = default;
  Statement(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  bool prepared() const { return stmt_ != nullptr; }
  Db& db() const { return *db_; }
  sqlite3_stmt* handle() const { return stmt_.get(); }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  Db* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

// One use of a statement: parameters bound in order, rows stepped through.
// The statement is reset when the Query goes, so no use leaves a read
// transaction open behind it.
class Query {
 public:
  explicit Query(Statement& statement) : statement_(statement) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int64_t value);
  Query& bind(int value) { return bind(static_cast<int64_t>(value)); }
  Query& bind_null();
  Query& bind(std::string_view text);
  Query& bind(const char* text) { return bind(std::string_view(text)); }
  Query& bind(const std::string& text) { return bind(std::string_view(text)); }
  // JSON null is SQL NULL; anything else its compact text.
  Query& bind_json(const nlohmann::json& value);

  // The next row: true while there is one. `what` names the operation in
  // an error ("cannot read the items").
  Result<bool> next(std::string_view what);
  // Steps to the end; returns the rows changed.
  Result<int64_t> run(std::string_view what);

  int64_t integer(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;
  // The column parsed as JSON (SQL NULL is JSON null); nothing if it does
  // not parse.
  std::optional<nlohmann::json> json(int column) const;

 private:
  Statement& statement_;
  int next_param_ = 1;
  int bind_rc_ = SQLITE_OK;
};

// The connection. Not movable: statements point back at it.
class Db {
 public:
  // sqlite3_open_v2 with `flags`; never creates unless flags say so.
  static Result<std::unique_ptr<Db>> open(const std::string& path, int flags);
  // Owns `db` (from sqlite3_open_v2, even a failed one).
  Db(std::string path, sqlite3* db, bool read_only)
      : path_(std::move(path)), db_(db), read_only_(read_only) {}
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }
  bool read_only() const { return read_only_; }

  // "PATH: what (sqlite3_errmsg)".
  Error error(std::string_view what) const;
  Error error(std::string_view what, int rc) const;

  Result<Statement> prepare(std::string_view sql, bool persistent = false);
  // Prepares into `slot` the first time; a cached statement after that.
  Result<Statement*> cached(Statement& slot, std::string_view sql);
  // Statements without results (DDL, pragmas).
  std::optional<Error> exec(const char* sql, std::string_view what);

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK through cached statements.
  std::optional<Error> begin();
  std::optional<Error> commit();
  void rollback();

 private:
  std::optional<Error> step_once(Statement& slot, const char* sql, std::string_view what);

  std::string path_;
  sqlite3* db_ = nullptr;
  bool read_only_ = false;
  Statement begin_, commit_, rollback_;
};

// A write transaction, rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction() {
    if (open_) db_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  std::optional<Error> begin() {
    auto error = db_.begin();
    open_ = !error;
    return error;
  }
  std::optional<Error> commit() {
    auto error = db_.commit();
    open_ = error.has_value();  // a failed COMMIT leaves it to roll back
    return error;
  }

 private:
  Db& db_;
  bool open_ = false;
};

int64_t wall_clock_ms();

}  // namespace belay::store::sqlite
