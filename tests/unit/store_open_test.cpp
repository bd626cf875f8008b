// Opening the durable state (DESIGN.md "Durable state"): a new state is
// created private, an existing file is checked before anything is written to
// it, and every file belay refuses is left byte for byte as it was.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/belay_process.hpp"
#include "support/state_files.hpp"

namespace belay::store {
namespace {

namespace fs = std::filesystem;
using test::file_bytes;
using test::TempDir;

std::vector<ItemKey> numbered_keys(int n) {
  std::vector<ItemKey> keys;
  for (int i = 1; i <= n; ++i) keys.push_back({"item-" + std::to_string(i), i});
  return keys;
}

// The error of an open that must fail, as config.
Error open_error(const std::string& dir, OpenOptions options = {}) {
  auto store = open_sqlite_store(dir, options);
  if (store.ok()) {
    ADD_FAILURE() << "opening " << dir << " succeeded";
    return {};
  }
  EXPECT_EQ(store.error().kind, Kind::config) << store.error().to_string();
  return store.error();
}

// A belay state with `n` items bound to campaign "shop", closed.
void make_state(const std::string& dir, int n) {
  auto store = open_sqlite_store(dir);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  ASSERT_TRUE(store.value()->bind("shop", numbered_keys(n), "fp").ok());
}

TEST(StoreOpen, CreatesTheDirectoryAndAPrivateFile) {
  TempDir tmp("belay-store-");
  const std::string dir = tmp.file("nested/state");
  {
    auto store = open_sqlite_store(dir);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    EXPECT_EQ(store.value()->path(), dir + "/belay.db");
    auto campaign = store.value()->campaign();
    ASSERT_TRUE(campaign.ok());
    EXPECT_FALSE(campaign.value().has_value());
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/belay.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = open_sqlite_store(dir);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
}

TEST(StoreOpen, ReadOnlyNeverCreatesTheDirectoryOrTheFile) {
  TempDir tmp("belay-store-");
  const std::string missing = tmp.file("missing");
  EXPECT_EQ(open_error(missing, {true}).message, "no state in " + missing);
  EXPECT_FALSE(fs::exists(missing));

  const std::string empty_dir = tmp.file("empty");
  fs::create_directories(empty_dir);
  EXPECT_EQ(open_error(empty_dir, {true}).message, "no state in " + empty_dir);
  EXPECT_FALSE(fs::exists(empty_dir + "/belay.db"));
}

TEST(StoreOpen, ReadOnlyReadsButNeverWrites) {
  TempDir tmp("belay-store-");
  make_state(tmp.path(), 3);
  const std::string path = tmp.file("belay.db");
  const std::string before = file_bytes(path);
  {
    auto store = open_sqlite_store(tmp.path(), {true});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    auto items = store.value()->items();
    ASSERT_TRUE(items.ok());
    EXPECT_EQ(items.value().size(), 3u);
    auto running = store.value()->mark_running("item-1", "p1");
    ASSERT_FALSE(running.ok());
    EXPECT_THAT(running.error().message, ::testing::HasSubstr(path));
  }
  EXPECT_EQ(file_bytes(path), before);
}

TEST(StoreOpen, GarbageFileIsNotABelayStateAndIsUntouched) {
  TempDir tmp("belay-store-");
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7 + 3);
  const std::string path = tmp.write("belay.db", garbage);
  for (bool read_only : {false, true}) {
    const Error e = open_error(tmp.path(), {read_only});
    EXPECT_EQ(e.message.rfind(path + " is not a belay state file (", 0), 0u) << e.message;
    EXPECT_EQ(file_bytes(path), garbage);
  }
}

TEST(StoreOpen, AnotherProgramsDatabaseIsRefusedUntouched) {
  TempDir tmp("belay-store-");
  const std::string path = tmp.file("belay.db");
  test::exec_sqlite(path,
                    "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);"
                    "INSERT INTO notes(body) VALUES ('keep me');");
  const std::string before = file_bytes(path);
  ASSERT_FALSE(before.empty());
  const Error e = open_error(tmp.path());
  EXPECT_EQ(e.message.rfind(path + " is not a belay state file", 0), 0u) << e.message;
  EXPECT_THAT(e.message, ::testing::HasSubstr("application_id 0"));
  EXPECT_EQ(file_bytes(path), before);
}

TEST(StoreOpen, UnknownSchemaVersionIsRefusedUntouched) {
  TempDir tmp("belay-store-");
  make_state(tmp.path(), 3);
  const std::string path = tmp.file("belay.db");
  test::exec_sqlite(path, "PRAGMA user_version = 99");
  const std::string before = file_bytes(path);
  const Error e = open_error(tmp.path());
  EXPECT_EQ(e.message,
            path + " has schema version 99; this belay reads version 1: use a newer belay");
  EXPECT_EQ(file_bytes(path), before);
}

TEST(StoreOpen, DamagedPageFailsTheIntegrityCheckAndIsUntouched) {
  TempDir tmp("belay-store-");
  make_state(tmp.path(), 5000);
  const std::string path = tmp.file("belay.db");
  ASSERT_GT(test::damage_middle_page(path), 1);
  const std::string before = file_bytes(path);
  for (bool read_only : {false, true}) {
    const Error e = open_error(tmp.path(), {read_only});
    EXPECT_EQ(e.message.rfind(path + " is corrupt: ", 0), 0u) << e.message;
    EXPECT_GT(e.message.size(), (path + " is corrupt: ").size());
    EXPECT_THAT(e.message, ::testing::Not(::testing::HasSubstr("\n")))
        << "only the first line: " << e.message;
    EXPECT_EQ(file_bytes(path), before);
  }
}

// An index whose entries no longer match its table (here: its definition
// changed behind SQLite's back) passes quick_check, which only reads pages
// and records; after a clean close that is the check. A writer that died
// without closing leaves the -wal file, and the next open runs the full
// integrity_check, which compares every index with its table.
TEST(StoreOpen, AfterACrashTheOpenComparesEveryIndexWithItsTable) {
  TempDir tmp("belay-store-");
  make_state(tmp.path(), 500);
  const std::string path = tmp.file("belay.db");
  test::exec_sqlite(path,
                    "PRAGMA writable_schema=ON;"
                    "UPDATE sqlite_master SET sql = 'CREATE INDEX items_by_idx ON items(attempts)' "
                    "WHERE name = 'items_by_idx';");
  ASSERT_FALSE(fs::exists(path + "-wal"));
  EXPECT_TRUE(open_sqlite_store(tmp.path(), {true}).ok()) << "a clean close: quick_check";

  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    // A host killed mid-run: a write in WAL mode, and no close.
    sqlite3* db = nullptr;
    const bool wrote =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
        sqlite3_exec(db, "UPDATE campaign SET last_index = last_index", nullptr, nullptr,
                     nullptr) == SQLITE_OK;
    ::_exit(wrote ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(fs::exists(path + "-wal"));
  for (bool read_only : {true, false}) {
    const Error e = open_error(tmp.path(), {read_only});
    EXPECT_EQ(e.message.rfind(path + " is corrupt: ", 0), 0u) << e.message;
    EXPECT_THAT(e.message, ::testing::HasSubstr("items_by_idx")) << e.message;
  }
}

TEST(StoreOpen, AnEmptyFileBecomesANewState) {
  TempDir tmp("belay-store-");
  tmp.write("belay.db", "");
  EXPECT_THAT(open_error(tmp.path(), {true}).message,
              ::testing::HasSubstr("no state in " + tmp.path()));
  auto store = open_sqlite_store(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_TRUE(store.value()->bind("shop", numbered_keys(2), "fp").ok());
}

TEST(StoreOpen, OtherCampaignIsAConfigErrorAndTheFileIsUntouched) {
  TempDir tmp("belay-store-");
  make_state(tmp.path(), 10);
  const std::string path = tmp.file("belay.db");
  const std::string before = file_bytes(path);
  {
    auto store = open_sqlite_store(tmp.path());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    auto bound = store.value()->bind("blog", numbered_keys(3), "other");
    ASSERT_FALSE(bound.ok());
    EXPECT_EQ(bound.error().kind, Kind::config);
    EXPECT_EQ(bound.error().message,
              path + " belongs to campaign 'shop', not 'blog': use another --state");
    auto items = store.value()->items();
    ASSERT_TRUE(items.ok());
    EXPECT_EQ(items.value().size(), 10u);
  }
  EXPECT_EQ(file_bytes(path), before);
}

}  // namespace
}  // namespace belay::store
