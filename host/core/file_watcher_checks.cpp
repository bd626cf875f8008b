// What a stat, a probe or a directory scan tells FileWatcher, and the one
// place a change is delivered.

#include "core/file_watcher.hpp"

#include "core/file_watcher_parts.hpp"

namespace belay {

using file_watch::is_recursable_dir;
using file_watch::join;
using file_watch::parent_of;

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
