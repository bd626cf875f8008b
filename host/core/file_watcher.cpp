#include "core/file_watcher.hpp"

#include "core/file_watcher_parts.hpp"

namespace belay {

using file_watch::is_recursable_dir;
using file_watch::join;
using file_watch::kPollIntervalMs;
using file_watch::normalize;
using file_watch::parent_of;
using file_watch::starts_with;

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

}  // namespace belay
