#pragma once
// Opening `DIR/belay.db`: validation of an existing file before anything is
// written to it, creation of a new one, and the schema.

#include <memory>
#include <string>

#include "store/sqlite_db.hpp"

namespace belay::store::sqlite {

// "BLAY": what `PRAGMA application_id` holds in every belay state file.
inline constexpr int32_t kApplicationId = 0x424c4159;
// `PRAGMA user_version`: the schema this code reads and writes.
inline constexpr int kSchemaVersion = 1;

// Opens the state file of `state_dir`, or creates it (0600, and the
// directory) unless `read_only`. An existing file that is not SQLite, is
// another program's database, has an unknown schema version or fails its
// check is a `config` error naming it, and is left byte for byte as it
// was. The check is `PRAGMA quick_check`, or `integrity_check` when the
// file's -wal file is there (the last host did not close it). A usable connection is in WAL mode
// with synchronous=FULL.
Result<std::unique_ptr<Db>> open_state_db(const std::string& state_dir, bool read_only);

}  // namespace belay::store::sqlite
