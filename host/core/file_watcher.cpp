#include "core/file_watcher.hpp"

#include "core/uv_handle.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <set>
#include <utility>

namespace belay {
namespace {

// Often enough that a replaced directory is watched again before a person
// saves twice; rarely enough that an idle watch costs nothing measurable.
constexpr unsigned kPollIntervalMs = 250;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Lexical only: symlinks are kept as given, so the path reported is the path
// the caller watched, and no disk access happens on the loop.
std::string normalize(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error) absolute = path;
  std::string normal = absolute.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// What editors write beside the real file while saving: vim's swap files
// (.foo.lua.swp down to .swa) and write probe (4913, 5036, ...), backups
// (foo.lua~), emacs autosaves (#foo.lua#) and locks (.#foo.lua), JetBrains'
// safe-write temps (foo.lua___jb_tmp___).
bool is_editor_temp(const std::string& name) {
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
bool is_recursable_dir(const std::string& name) { return !name.empty() && name.front() != '.'; }

}  // namespace

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
    if (is_editor_temp(name)) return false;
    return std::any_of(filters.begin(), filters.end(),
                       [&](const Filter& f) { return ends_with(name, f.suffix); });
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

FileWatcher::FileWatcher(uv_loop_t* loop, OnChange on_change, uint64_t debounce_ms)
    : loop_(loop),
      on_change_(std::make_shared<const OnChange>(std::move(on_change))),
      debounce_ms_(debounce_ms),
      alive_(std::make_shared<FileWatcher*>(this)) {}

FileWatcher::~FileWatcher() { close_all(); }

void FileWatcher::stop() {
  close_all();
  alive_ = std::make_shared<FileWatcher*>(this);
}

void FileWatcher::close_all() {
  alive_.reset();
  files_.clear();  // each UvHandle closes its handle
  dirs_.clear();
  pending_setup_ = 0;
}

int FileWatcher::watch_file(const std::string& path) {
  const std::string absolute = normalize(path);
  if (absolute == "/") return UV_EINVAL;
  int error = 0;
  DirWatch* dir = start_dir(parent_of(absolute), false, &error);
  if (dir == nullptr) return error;
  dir->names.insert(absolute.substr(absolute.rfind('/') + 1));
  add_baseline(absolute);
  FileState& file = file_state(absolute);
  if (file.poll.initialized()) return 0;
  uv_fs_poll_init(loop_, file.poll.get());
  file.poll->data = &file;
  return uv_fs_poll_start(file.poll.get(), &Callbacks::file_polled, absolute.c_str(),
                          kPollIntervalMs);
}

int FileWatcher::watch_directory(const std::string& dir_path, std::string suffix, bool recursive) {
  int error = 0;
  DirWatch* dir = start_dir(normalize(dir_path), false, &error);
  if (dir == nullptr) return error;
  Filter filter{std::move(suffix), recursive};
  if (std::find(dir->filters.begin(), dir->filters.end(), filter) == dir->filters.end()) {
    dir->filters.push_back(std::move(filter));
  }
  return submit(Purpose::scan_initial, dir->path, true);
}

// Watches `path` with inotify (or its kin) and a slow poll, or returns the
// existing watch.
FileWatcher::DirWatch* FileWatcher::start_dir(const std::string& path, bool by_recursion,
                                              int* error) {
  auto found = dirs_.find(path);
  if (found != dirs_.end()) {
    found->second->by_recursion = found->second->by_recursion && by_recursion;
    return found->second.get();
  }
  auto dir = std::make_unique<DirWatch>();
  dir->owner = this;
  dir->path = path;
  dir->by_recursion = by_recursion;
  int rc = uv_fs_event_init(loop_, dir->event.get());
  dir->event->data = dir.get();
  if (rc == 0) rc = uv_fs_event_start(dir->event.get(), &Callbacks::dir_event, path.c_str(), 0);
  if (rc == 0) rc = uv_fs_poll_init(loop_, dir->poll.get());
  dir->poll->data = dir.get();
  if (rc == 0) {
    rc = uv_fs_poll_start(dir->poll.get(), &Callbacks::dir_polled, path.c_str(), kPollIntervalMs);
  }
  if (rc < 0) {
    *error = rc;
    return nullptr;  // `dir` closes its handles as it goes
  }
  DirWatch* raw = dir.get();
  dirs_.emplace(path, std::move(dir));
  return raw;
}

// Adds the filters a recursive parent hands down; scans only if that taught
// the directory something new, so repeated probes cost nothing.
void FileWatcher::add_subdir(const std::string& path, const std::vector<Filter>& filters,
                             Purpose scan) {
  int error = 0;
  DirWatch* dir = start_dir(path, true, &error);
  if (dir == nullptr) return;  // e.g. out of inotify watches: the rest of the tree still works
  bool learned = false;
  for (const Filter& filter : filters) {
    if (std::find(dir->filters.begin(), dir->filters.end(), filter) == dir->filters.end()) {
      dir->filters.push_back(filter);
      learned = true;
    }
  }
  if (learned) submit(scan, path, scan == Purpose::scan_initial);
}

// Forgets a subdirectory that went away and those under it, except ones the
// caller asked for by name.
void FileWatcher::remove_subdir_tree(const std::string& path) {
  dirs_.erase(path);
  const std::string prefix = path + "/";
  for (auto it = dirs_.lower_bound(prefix); it != dirs_.end() && starts_with(it->first, prefix);) {
    it = it->second->by_recursion ? dirs_.erase(it) : std::next(it);
  }
}

// The old watch followed the old inode (or died with it) and events in
// between were lost, so watch the path afresh and look at everything again.
void FileWatcher::rearm(DirWatch& dir) {
  uv_fs_event_stop(dir.event.get());
  const int rc = uv_fs_event_start(dir.event.get(), &Callbacks::dir_event, dir.path.c_str(), 0);
  if (rc < 0) {
    dir.missing = true;  // retried on the next poll that sees a change
    return;
  }
  rescan(dir);
}

void FileWatcher::rescan(const DirWatch& dir) {
  const std::string prefix = dir.path == "/" ? "/" : dir.path + "/";
  for (auto it = files_.lower_bound(prefix); it != files_.end() && starts_with(it->first, prefix);
       ++it) {
    if (parent_of(it->first) == dir.path) schedule_check(it->first);
  }
  if (!dir.filters.empty()) submit(Purpose::scan_changed, dir.path, false);
}

FileWatcher::FileState& FileWatcher::file_state(const std::string& path) {
  std::unique_ptr<FileState>& slot = files_[path];
  if (!slot) {
    slot = std::make_unique<FileState>();
    slot->owner = this;
    slot->path = path;
  }
  return *slot;
}

void FileWatcher::add_baseline(const std::string& path) {
  if (files_.count(path) > 0) return;  // an event got there first
  FileState& file = file_state(path);
  if (submit(Purpose::baseline, path, true) == 0) {
    file.stat_in_flight = true;
    file.awaiting_baseline = true;
  }
}

// (Re)starts the path's debounce: the check runs `debounce_ms` after the last
// event, when the editor is done.
void FileWatcher::schedule_check(const std::string& path, bool restart) {
  FileState& file = file_state(path);
  if (file.awaiting_baseline) file.events_during_baseline = true;
  if (!file.debounce.initialized()) {
    uv_timer_init(loop_, file.debounce.get());
    file.debounce->data = &file;
  }
  if (!restart && uv_is_active(file.debounce.as_handle()) != 0) return;
  uv_timer_start(file.debounce.get(), &Callbacks::debounce_done, debounce_ms_, 0);
}

void FileWatcher::start_check(FileState& file) {
  if (file.stat_in_flight) {
    file.recheck = true;
    return;
  }
  if (submit(Purpose::check, file.path, false) == 0) file.stat_in_flight = true;
}

int FileWatcher::submit(Purpose purpose, const std::string& path, bool setup) {
  auto request = std::make_unique<FsRequest>();
  request->req.data = request.get();
  request->owner = alive_;
  request->path = path;
  request->purpose = purpose;
  request->setup = setup;
  uv_fs_t* req = &request->req;
  const char* target = request->path.c_str();
  int rc = 0;
  switch (purpose) {
    case Purpose::probe:  // lstat: a symlinked directory is not recursed into
      rc = uv_fs_lstat(loop_, req, target, &Callbacks::fs_done);
      break;
    case Purpose::scan_initial:
    case Purpose::scan_changed:
      rc = uv_fs_scandir(loop_, req, target, 0, &Callbacks::fs_done);
      break;
    case Purpose::baseline:
    case Purpose::check:  // stat: a symlinked file is judged by what it points to
      rc = uv_fs_stat(loop_, req, target, &Callbacks::fs_done);
      break;
  }
  if (rc < 0) return rc;
  if (setup) ++pending_setup_;
  // libuv holds the request until fs_done, which takes ownership back.
  static_cast<void>(request.release());
  return 0;
}

void FileWatcher::on_dir_event(const DirWatch& dir, const std::string& name) {
  // No name: the kernel could not say which entry changed.
  if (name.empty()) return rescan(dir);
  const std::string path = join(dir.path, name);
  if (dir.wants(name)) {
    schedule_check(path);
  } else if (dir.recursive() && is_recursable_dir(name)) {
    submit(Purpose::probe, path, false);  // maybe a new subdirectory
  }
}

void FileWatcher::on_dir_polled(DirWatch& dir, int status, const uv_stat_t& prev,
                                const uv_stat_t& curr) {
  if (status < 0) {
    if (!dir.by_recursion) {
      dir.missing = true;  // keep polling: it may come back
      return;
    }
    // A re-created one is found by the parent's scan, or by the parent's
    // event if it comes back later.
    const std::string path = dir.path;
    remove_subdir_tree(path);  // destroys `dir`
    auto parent = dirs_.find(parent_of(path));
    if (parent != dirs_.end()) rescan(*parent->second);
    return;
  }
  // A directory's mtime changes with every save inside it; only a different
  // directory at this path needs a new watch. The birth time catches one
  // re-created under a reused inode number.
  const bool replaced = dir.missing || prev.st_ino != curr.st_ino || prev.st_dev != curr.st_dev ||
                        prev.st_birthtim.tv_sec != curr.st_birthtim.tv_sec ||
                        prev.st_birthtim.tv_nsec != curr.st_birthtim.tv_nsec;
  dir.missing = false;
  if (replaced) rearm(dir);
}

void FileWatcher::on_fs_done(FsRequest& request) {
  if (request.setup && pending_setup_ > 0) --pending_setup_;
  switch (request.purpose) {
    case Purpose::baseline:
    case Purpose::check:
      return on_file_stat(request);
    case Purpose::probe:
      return on_probe(request);
    case Purpose::scan_initial:
    case Purpose::scan_changed:
      return on_scan(request);
  }
}

void FileWatcher::on_file_stat(const FsRequest& request) {
  auto found = files_.find(request.path);
  if (found == files_.end()) return;
  FileState& file = *found->second;
  file.stat_in_flight = false;
  const auto result = static_cast<int>(request.req.result);
  Identity now = file.delivered;  // EACCES or EIO say nothing about the content
  if (result == 0) now = Identity::of(request.req.statbuf);
  if (result == UV_ENOENT || result == UV_ENOTDIR) now = Identity{};
  bool changed = false;
  if (request.purpose == Purpose::baseline) {
    file.awaiting_baseline = false;
    file.uncertain = file.events_during_baseline;
  } else {
    changed = now.exists && (file.uncertain || now != file.delivered);
    file.uncertain = false;
  }
  file.delivered = now;
  if (file.recheck) {
    file.recheck = false;
    start_check(file);
  }
  // Last, and with nothing touched after it: the callback may destroy us.
  if (changed) deliver(request.path);
}

void FileWatcher::on_probe(const FsRequest& request) {
  if (request.req.result < 0 || !S_ISDIR(request.req.statbuf.st_mode)) return;
  auto parent = dirs_.find(parent_of(request.path));
  if (parent == dirs_.end()) return;
  add_subdir(request.path, parent->second->inherited(), Purpose::scan_changed);
}

// An initial scan records what is there; a later one (new or re-armed
// directory) checks it, so files that appeared unseen are reported.
void FileWatcher::on_scan(FsRequest& request) {
  auto found = dirs_.find(request.path);
  if (found == dirs_.end() || request.req.result < 0) return;
  const DirWatch& dir = *found->second;
  std::vector<std::string> files;
  std::vector<std::string> subdirs;
  uv_dirent_t entry;
  while (uv_fs_scandir_next(&request.req, &entry) == 0) {
    const std::string name = entry.name;
    if (entry.type == UV_DIRENT_DIR) {
      if (dir.recursive() && is_recursable_dir(name)) subdirs.push_back(join(dir.path, name));
    } else if (dir.wants(name)) {
      files.push_back(join(dir.path, name));
    }
  }
  const std::vector<Filter> inherited = dir.inherited();
  for (const std::string& path : files) {
    if (request.purpose == Purpose::scan_initial) {
      add_baseline(path);
    } else {
      schedule_check(path);
    }
  }
  for (const std::string& path : subdirs) add_subdir(path, inherited, request.purpose);
}

void FileWatcher::deliver(const std::string& path) {
  const std::shared_ptr<const OnChange> on_change = on_change_;
  if (*on_change) (*on_change)(path);
}

}  // namespace belay
