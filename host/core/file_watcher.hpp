#pragma once
// Watches the files hot reload depends on (the campaign, the ladders,
// scripts/) and reports each saved file once.
//
// Editors save in two ways: truncate and write in place, or write a temp file
// and rename() it over the target, which replaces the inode (vim, most IDEs).
// A watch on the file's own inode goes stale after the second, so the watch is
// put on the parent directory and names are matched. Whether a file really
// changed is decided by its identity (mtime in ns, size, inode) from an async
// stat: a touch that changes nothing is not reported, a rename-over with the
// same size and mtime still is. Events are debounced per path: one report
// `debounce_ms` after the last event of a burst.
//
// A deleted file is not reported (there is nothing to load; the old version
// keeps running); its re-creation is. A slow uv_fs_poll on every watched
// directory notices one that was replaced or re-created and re-arms its watch;
// one on every file given to watch_file() catches what directory events miss
// (a symlinked file edited through its target, an overflowed event queue).

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace belay {

class FileWatcher {
 public:
  using OnChange = std::function<void(const std::string& path)>;

  // `on_change` runs on the loop with the absolute, lexically normalized path
  // of a file whose content changed. It may call stop() or destroy the watcher.
  FileWatcher(uv_loop_t* loop, OnChange on_change, uint64_t debounce_ms = 50);
  // Closes every handle. File system requests already in libuv's thread pool
  // cannot be recalled; they finish on the loop and find no owner.
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;
  FileWatcher(FileWatcher&&) = delete;
  FileWatcher& operator=(FileWatcher&&) = delete;

  // Watches one file, which need not exist yet; its directory must. Returns 0
  // or a negative uv error.
  int watch_file(const std::string& path);
  // Watches the files in `dir` whose names end with `suffix` ("" for all),
  // skipping editor temp files. `recursive` adds the subdirectories present
  // now and created later, except dot-directories (.git) and symlinks (cycles).
  int watch_directory(const std::string& dir, std::string suffix = ".lua", bool recursive = false);
  // Drops every watch and every pending report. The watcher may be reused.
  void stop();
  // True once the identity of every file present when its watch started is
  // known. A change made before that is still reported (at worst a touch is
  // reported too); callers that need a quiet start wait for ready().
  bool ready() const { return pending_setup_ == 0; }

 private:
  struct Identity;
  struct Filter;
  struct FileState;
  struct DirWatch;
  struct FsRequest;
  struct Callbacks;
  enum class Purpose { baseline, check, probe, scan_initial, scan_changed };

  DirWatch* start_dir(const std::string& path, bool by_recursion, int* error);
  void add_subdir(const std::string& path, const std::vector<Filter>& filters, Purpose scan);
  void remove_subdir_tree(const std::string& path);
  void rearm(DirWatch& dir);
  void rescan(const DirWatch& dir);
  FileState& file_state(const std::string& path);
  void add_baseline(const std::string& path);
  void schedule_check(const std::string& path, bool restart = true);
  void start_check(FileState& file);
  int submit(Purpose purpose, const std::string& path, bool setup);
  void on_dir_event(const DirWatch& dir, const std::string& name);
  void on_dir_polled(DirWatch& dir, int status, const uv_stat_t& prev, const uv_stat_t& curr);
  void on_fs_done(FsRequest& request);
  void on_file_stat(const FsRequest& request);
  void on_probe(const FsRequest& request);
  void on_scan(FsRequest& request);
  void deliver(const std::string& path);
  void close_all();

  uv_loop_t* loop_;
  // Shared so that a callback which destroys the watcher does not destroy the
  // function object it is running in.
  std::shared_ptr<const OnChange> on_change_;
  uint64_t debounce_ms_;
  std::map<std::string, std::unique_ptr<DirWatch>> dirs_;
  std::map<std::string, std::unique_ptr<FileState>> files_;
  size_t pending_setup_ = 0;
  // In-flight fs requests hold a weak reference; stop() replaces the token and
  // the destructor drops it, so a late result finds no owner.
  std::shared_ptr<FileWatcher*> alive_;
};

}  // namespace belay
