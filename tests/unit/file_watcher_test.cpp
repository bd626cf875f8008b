// FileWatcher against the real file system: both editor save styles, the
// identity check that filters spurious events, debouncing, name filters,
// recursion, replaced directories, and teardown from inside a callback.

#include "core/file_watcher.hpp"

#include "support/run_loop.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace belay {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

struct timespec mtime_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mtim;
}

void set_times(const std::string& path, const struct timespec& when) {
  const struct timespec times[2] = {when, when};
  EXPECT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

class FileWatcherTest : public ::testing::Test {
 protected:
  // Long enough for a duplicate report to show up: past the debounce and the
  // 250 ms fallback poll.
  static constexpr uint64_t kSettleMs = 400;

  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    std::string pattern = (fs::temp_directory_path() / "belay-watch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    watcher_.reset();
    if (!loop_closed_) {
      EXPECT_EQ(test::drain_and_close(&loop_), 0);
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void start(uint64_t debounce_ms = 50) {
    watcher_ = std::make_unique<FileWatcher>(
        &loop_,
        [this](const std::string& path) {
          changes_.push_back(path);
          contents_.push_back(read_file(path));
          if (hook_) hook_(path);
        },
        debounce_ms);
  }

  void wait_ready() {
    ASSERT_TRUE(test::run_until(
        &loop_, [&] { return watcher_->ready(); }, 3000));
  }
  void run_for(uint64_t ms) {
    test::run_until(
        &loop_, [] { return false; }, ms);
  }
  // Waits for `count` reports, then a quiet period for duplicates.
  bool wait_changes(size_t count, uint64_t timeout_ms = 3000) {
    const bool ok = test::run_until(
        &loop_, [&] { return changes_.size() >= count; }, timeout_ms);
    run_for(kSettleMs);
    return ok;
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  uv_loop_t loop_{};
  bool loop_closed_ = false;
  std::string dir_;
  std::unique_ptr<FileWatcher> watcher_;
  Paths changes_;
  std::vector<std::string> contents_;
  std::function<void(const std::string&)> hook_;
};

TEST_F(FileWatcherTest, TruncateAndWriteInPlaceIsReportedOnce) {
  write_file(path("a.lua"), "v1");
  start();
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  write_file(path("a.lua"), "version 2");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("a.lua")});
  ASSERT_EQ(contents_.size(), 1u);
  EXPECT_EQ(contents_[0], "version 2");
}

TEST_F(FileWatcherTest, RenameOverIsReportedOnce) {
  write_file(path("a.lua"), "old");
  start();
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  write_file(path(".a.lua.tmp123"), "new content");
  ASSERT_EQ(std::rename(path(".a.lua.tmp123").c_str(), path("a.lua").c_str()), 0);
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("a.lua")});
  EXPECT_EQ(contents_, std::vector<std::string>{"new content"});
}

// Same size, same mtime: only the inode tells the new file from the old.
TEST_F(FileWatcherTest, RenameOverWithSameSizeAndMtimeIsSeenByInode) {
  write_file(path("a.lua"), "aaaa");
  const struct timespec mtime = mtime_of(path("a.lua"));
  start();
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  write_file(path("a.lua.new"), "bbbb");
  set_times(path("a.lua.new"), mtime);
  ASSERT_EQ(std::rename(path("a.lua.new").c_str(), path("a.lua").c_str()), 0);
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(contents_, std::vector<std::string>{"bbbb"});
}

TEST_F(FileWatcherTest, DeleteIsSilentAndRecreateIsReported) {
  write_file(path("a.lua"), "one");
  start();
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  ASSERT_TRUE(fs::remove(path("a.lua")));
  run_for(kSettleMs);
  EXPECT_TRUE(changes_.empty());
  write_file(path("a.lua"), "two");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("a.lua")});
  EXPECT_EQ(contents_, std::vector<std::string>{"two"});
}

// Four writes 60 ms apart span more than the 150 ms debounce: a debounce
// counted from the first event would report twice.
TEST_F(FileWatcherTest, QuickSuccessiveWritesAreReportedOnceWithFinalContent) {
  write_file(path("a.lua"), "v0");
  start(150);
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  for (const char* content : {"v1", "v2", "v3"}) {
    write_file(path("a.lua"), content);
    run_for(60);
  }
  write_file(path("a.lua"), "final");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(contents_, std::vector<std::string>{"final"});
}

TEST_F(FileWatcherTest, TouchWithoutContentChangeIsIgnored) {
  write_file(path("a.lua"), "same");
  const struct timespec mtime = mtime_of(path("a.lua"));
  start();
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  set_times(path("a.lua"), mtime);  // an event (IN_ATTRIB) and a new ctime, same content
  run_for(kSettleMs);
  EXPECT_TRUE(changes_.empty());
  write_file(path("a.lua"), "different");  // proves the watch is live
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("a.lua")});
}

TEST_F(FileWatcherTest, DirectoryIgnoresOtherSuffixesAndReportsNewFiles) {
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_), 0);
  wait_ready();
  write_file(path("notes.txt"), "x");
  write_file(path("a.lua.bak"), "x");
  write_file(path("luafile"), "x");
  run_for(kSettleMs);
  EXPECT_TRUE(changes_.empty());
  write_file(path("b.lua"), "b");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("b.lua")});
}

// An empty suffix watches everything, so only the temp-file filter keeps
// these out.
TEST_F(FileWatcherTest, DirectoryIgnoresEditorTempFiles) {
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_, ""), 0);
  wait_ready();
  for (const char* name :
       {".a.lua.swp", ".a.lua.swx", "a.lua~", "4913", "#a.lua#", ".#a.lua", "a.lua___jb_tmp___"}) {
    write_file(path(name), "x");
  }
  run_for(kSettleMs);
  EXPECT_EQ(changes_, Paths{});
  write_file(path("a.lua"), "real");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("a.lua")});
}

// vim with backupcopy=no: probe file, rename the original to a backup, write
// a new file, delete the backup.
TEST_F(FileWatcherTest, VimStyleSaveIsReportedOnce) {
  write_file(path("a.lua"), "before");
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_), 0);
  wait_ready();
  write_file(path("4913"), "");
  fs::remove(path("4913"));
  ASSERT_EQ(std::rename(path("a.lua").c_str(), path("a.lua~").c_str()), 0);
  write_file(path("a.lua"), "after");
  fs::remove(path("a.lua~"));
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("a.lua")});
  EXPECT_EQ(contents_, std::vector<std::string>{"after"});
}

TEST_F(FileWatcherTest, RecursiveSeesChangeInExistingSubdirectory) {
  fs::create_directories(path("sub/deeper"));
  write_file(path("sub/deeper/a.lua"), "1");
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_, ".lua", true), 0);
  wait_ready();
  write_file(path("sub/deeper/a.lua"), "22");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("sub/deeper/a.lua")});
}

// The second subdirectory tree gets its file before the watcher can have
// added a watch for it: the scan of the new directory must report it.
TEST_F(FileWatcherTest, RecursiveSeesFilesInSubdirectoriesCreatedAfterStart) {
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_, ".lua", true), 0);
  wait_ready();
  fs::create_directory(path("sub"));
  run_for(100);
  write_file(path("sub/a.lua"), "a");
  EXPECT_TRUE(wait_changes(1));
  fs::create_directories(path("x/y/z"));
  write_file(path("x/y/z/b.lua"), "b");
  EXPECT_TRUE(wait_changes(2));
  EXPECT_EQ(changes_, (Paths{path("sub/a.lua"), path("x/y/z/b.lua")}));
}

TEST_F(FileWatcherTest, NonRecursiveIgnoresSubdirectories) {
  fs::create_directory(path("sub"));
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_), 0);
  wait_ready();
  write_file(path("sub/a.lua"), "a");
  run_for(kSettleMs);
  EXPECT_TRUE(changes_.empty());
}

// The old directory is renamed away and a new one takes its place: the
// inotify watch follows the old inode, so only the re-armed watch sees b.lua.
TEST_F(FileWatcherTest, ReplacedDirectoryIsWatchedAgain) {
  fs::create_directory(path("conf"));
  write_file(path("conf/a.lua"), "1");
  start();
  ASSERT_EQ(watcher_->watch_directory(path("conf")), 0);
  wait_ready();
  run_for(50);
  ASSERT_EQ(std::rename(path("conf").c_str(), path("conf.old").c_str()), 0);
  fs::create_directory(path("conf"));
  write_file(path("conf.old/a.lua"), "stale");  // not at the watched path any more
  run_for(kSettleMs + 100);
  EXPECT_TRUE(changes_.empty());
  write_file(path("conf/b.lua"), "new dir");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_, Paths{path("conf/b.lua")});
}

TEST_F(FileWatcherTest, DeletedAndRecreatedDirectoryIsWatchedAgain) {
  fs::create_directory(path("conf"));
  write_file(path("conf/a.lua"), "1");
  start();
  ASSERT_EQ(watcher_->watch_file(path("conf/a.lua")), 0);
  wait_ready();
  run_for(50);
  fs::remove_all(path("conf"));
  run_for(kSettleMs);
  fs::create_directory(path("conf"));
  write_file(path("conf/a.lua"), "2");
  ASSERT_TRUE(wait_changes(1));
  write_file(path("conf/a.lua"), "three");  // and the watch keeps working
  EXPECT_TRUE(wait_changes(2));
  EXPECT_EQ(contents_, (std::vector<std::string>{"2", "three"}));
}

TEST_F(FileWatcherTest, StopInsideCallbackIsSafe) {
  write_file(path("a.lua"), "a");
  write_file(path("b.lua"), "b");
  start();
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  ASSERT_EQ(watcher_->watch_file(path("b.lua")), 0);
  wait_ready();
  hook_ = [this](const std::string&) { watcher_->stop(); };
  write_file(path("a.lua"), "a2");
  write_file(path("b.lua"), "b2");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_.size(), 1u);  // the other path's pending check died with stop()
  hook_ = nullptr;
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);  // and the watcher is reusable
  wait_ready();
  write_file(path("a.lua"), "a3");
  EXPECT_TRUE(wait_changes(2));
  EXPECT_EQ(changes_.back(), path("a.lua"));
}

TEST_F(FileWatcherTest, DestroyInsideCallbackIsSafe) {
  write_file(path("a.lua"), "a");
  write_file(path("b.lua"), "b");
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_), 0);
  wait_ready();
  hook_ = [this](const std::string&) { watcher_.reset(); };
  write_file(path("a.lua"), "a2");
  write_file(path("b.lua"), "b2");
  EXPECT_TRUE(wait_changes(1));
  EXPECT_EQ(changes_.size(), 1u);
  EXPECT_EQ(watcher_, nullptr);
  loop_closed_ = true;
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
}

TEST_F(FileWatcherTest, DestroyWithPendingDebounceLeaksNothing) {
  write_file(path("a.lua"), "a");
  start(1000);
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  write_file(path("a.lua"), "a2");
  run_for(100);  // the event is in; its debounce timer is running
  watcher_.reset();
  loop_closed_ = true;
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
  EXPECT_TRUE(changes_.empty());
}

// Scans and baseline stats still in the thread pool when the watcher goes.
TEST_F(FileWatcherTest, DestroyDuringStartupLeaksNothing) {
  fs::create_directories(path("s1/s2"));
  write_file(path("s1/s2/a.lua"), "a");
  start();
  ASSERT_EQ(watcher_->watch_directory(dir_, ".lua", true), 0);
  ASSERT_EQ(watcher_->watch_file(path("s1/s2/a.lua")), 0);
  watcher_.reset();
  loop_closed_ = true;
  EXPECT_EQ(test::drain_and_close(&loop_), 0);
}

TEST_F(FileWatcherTest, ReportsAbsoluteNormalizedPaths) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  write_file(path("a.lua"), "a");
  write_file(path("rel.lua"), "r");
  start();
  ASSERT_EQ(watcher_->watch_file(dir_ + "/nowhere/.././a.lua"), 0);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  const int rc = watcher_->watch_file("rel.lua");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_EQ(rc, 0);
  wait_ready();
  write_file(path("a.lua"), "a2");
  write_file(path("rel.lua"), "r2");
  EXPECT_TRUE(wait_changes(2));
  Paths sorted = changes_;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (Paths{path("a.lua"), path("rel.lua")}));
}

TEST_F(FileWatcherTest, MissingDirectoryIsAnError) {
  start();
  EXPECT_EQ(watcher_->watch_file(path("missing/a.lua")), UV_ENOENT);
  EXPECT_EQ(watcher_->watch_directory(path("missing")), UV_ENOENT);
  EXPECT_TRUE(watcher_->ready());
}

// Reports come debounce_ms after the last event, not before; prints the
// observed write-to-callback latency.
TEST_F(FileWatcherTest, ReportsArriveOneDebounceAfterTheWrite) {
  write_file(path("a.lua"), "0");
  start(50);
  ASSERT_EQ(watcher_->watch_file(path("a.lua")), 0);
  wait_ready();
  uint64_t reported_ns = 0;
  hook_ = [&](const std::string&) { reported_ns = uv_hrtime(); };
  std::vector<double> latencies_ms;
  for (int round = 1; round <= 5; ++round) {
    const uint64_t written_ns = uv_hrtime();
    write_file(path("a.lua"), std::to_string(round * 1111));
    ASSERT_TRUE(test::run_until(
        &loop_, [&] { return changes_.size() >= size_t(round); }, 3000));
    latencies_ms.push_back(static_cast<double>(reported_ns - written_ns) / 1e6);
    run_for(20);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("write-to-callback latency (debounce 50 ms): min %.1f median %.1f max %.1f ms\n",
              latencies_ms.front(), latencies_ms[2], latencies_ms.back());
  // Not 50: libuv's loop clock is the coarse monotonic one, a few ms behind.
  EXPECT_GE(latencies_ms.front(), 45.0);
}

}  // namespace
}  // namespace belay
