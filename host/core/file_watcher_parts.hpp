#pragma once
// Inside FileWatcher: the state it keeps per file and per directory, the fs
// requests it has in flight, and the libuv callbacks that route back to it.
// Shared by file_watcher.cpp (the watches) and file_watcher_checks.cpp (what a
// stat or a scan result means); nothing else includes this.

#include "core/file_watcher.hpp"
#include "core/uv_handle.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace belay {
namespace file_watch {

// Often enough that a replaced directory is watched again before a person
// saves twice; rarely enough that an idle watch costs nothing measurable.
inline constexpr unsigned kPollIntervalMs = 250;

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Lexical only: symlinks are kept as given, so the path reported is the path
// the caller watched, and no disk access happens on the loop.
inline std::string normalize(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error) absolute = path;
  std::string normal = absolute.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

inline std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

inline std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// What editors write beside the real file while saving: vim's swap files
// (.foo.lua.swp down to .swa) and write probe (4913, 5036, ...), backups
// (foo.lua~), emacs autosaves (#foo.lua#) and locks (.#foo.lua), JetBrains'
// safe-write temps (foo.lua___jb_tmp___).
inline bool is_editor_temp(const std::string& name) {
  if (name.empty() || name.back() == '~' || starts_with(name, ".#")) return true;
  if (std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return true;
  }
  if (name.size() >= 2 && name.front() == '#' && name.back() == '#') return true;
  if (name.front() == '.') {
    const std::string extension = name.substr(name.rfind('.'));
    if ((extension.size() == 4 && starts_with(extension, ".sw")) || extension == ".swpx") {
      return true;
    }
  }
  return name.find("___jb_") != std::string::npos;
}

// Dot-directories (.git, .belay) are never recursed into: they are large and
// hold nothing to reload.
inline bool is_recursable_dir(const std::string& name) {
  return !name.empty() && name.front() != '.';
}

}  // namespace file_watch

// What tells one version of a file from another without reading it. ctime is
// left out on purpose: a touch that restores the times changes it.
struct FileWatcher::Identity {
  bool exists = false;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;

  // Only a regular file has content to reload; anything else counts as absent.
  static Identity of(const uv_stat_t& st) {
    Identity id;
    if ((st.st_mode & S_IFMT) != S_IFREG) return id;
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    id.size = st.st_size;
    id.mtime_sec = st.st_mtim.tv_sec;
    id.mtime_nsec = st.st_mtim.tv_nsec;
    return id;
  }
  bool operator==(const Identity& o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
           mtime_sec == o.mtime_sec && mtime_nsec == o.mtime_nsec;
  }
  bool operator!=(const Identity& o) const { return !(*this == o); }
};

struct FileWatcher::Filter {
  std::string suffix;
  bool recursive = false;
  bool operator==(const Filter& o) const { return suffix == o.suffix && recursive == o.recursive; }
};

struct FileWatcher::FileState {
  FileWatcher* owner = nullptr;
  std::string path;
  Identity delivered;  // the last one reported, or the baseline
  // One stat per path at a time, so results cannot arrive out of order.
  bool stat_in_flight = false;
  bool awaiting_baseline = false;
  bool events_during_baseline = false;
  // The baseline may already include a change: report the next check.
  bool uncertain = false;
  // The debounce ran out while a stat was in flight.
  bool recheck = false;
  UvHandle<uv_timer_t> debounce;
  UvHandle<uv_fs_poll_t> poll;  // only for watch_file() targets
};

struct FileWatcher::DirWatch {
  FileWatcher* owner = nullptr;
  std::string path;
  bool by_recursion = false;  // added for a recursive parent, not by the caller
  bool missing = false;       // the last poll found nothing here
  std::set<std::string> names;
  std::vector<Filter> filters;
  UvHandle<uv_fs_event_t> event;
  UvHandle<uv_fs_poll_t> poll;

  bool recursive() const {
    return std::any_of(filters.begin(), filters.end(), [](const Filter& f) { return f.recursive; });
  }
  bool wants(const std::string& name) const {
    if (names.count(name) > 0) return true;
    if (file_watch::is_editor_temp(name)) return false;
    return std::any_of(filters.begin(), filters.end(),
                       [&](const Filter& f) { return file_watch::ends_with(name, f.suffix); });
  }
  std::vector<Filter> inherited() const {
    std::vector<Filter> out;
    std::copy_if(filters.begin(), filters.end(), std::back_inserter(out),
                 [](const Filter& f) { return f.recursive; });
    return out;
  }
};

struct FileWatcher::FsRequest {
  uv_fs_t req{};
  std::weak_ptr<FileWatcher*> owner;
  std::string path;
  Purpose purpose = Purpose::check;
  bool setup = false;  // counted in pending_setup_

  FsRequest() = default;
  FsRequest(const FsRequest&) = delete;
  FsRequest& operator=(const FsRequest&) = delete;
  ~FsRequest() { uv_fs_req_cleanup(&req); }
};

// libuv callbacks: find the owner (none once its handle was reset) and hand on.
struct FileWatcher::Callbacks {
  static void dir_event(uv_fs_event_t* handle, const char* filename, int /*events*/, int status) {
    auto* dir = static_cast<DirWatch*>(handle->data);
    if (dir != nullptr && status == 0) {
      dir->owner->on_dir_event(*dir, filename != nullptr ? filename : "");
    }
  }
  static void dir_polled(uv_fs_poll_t* handle, int status, const uv_stat_t* prev,
                         const uv_stat_t* curr) {
    auto* dir = static_cast<DirWatch*>(handle->data);
    if (dir != nullptr) dir->owner->on_dir_polled(*dir, status, *prev, *curr);
  }
  static void file_polled(uv_fs_poll_t* handle, int, const uv_stat_t*, const uv_stat_t*) {
    auto* file = static_cast<FileState*>(handle->data);
    // A poll is only a fallback: it never pushes back a debounce an event started.
    if (file != nullptr) file->owner->schedule_check(file->path, false);
  }
  static void debounce_done(uv_timer_t* timer) {
    auto* file = static_cast<FileState*>(timer->data);
    if (file != nullptr) file->owner->start_check(*file);
  }
  static void fs_done(uv_fs_t* req) {
    std::unique_ptr<FsRequest> request(static_cast<FsRequest*>(req->data));
    const std::shared_ptr<FileWatcher*> owner = request->owner.lock();
    if (owner) (*owner)->on_fs_done(*request);
  }
};

}  // namespace belay
