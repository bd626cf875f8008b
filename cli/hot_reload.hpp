#pragma once
// Hot reload, end to end. While `belay run` goes on, this watches every file
// the campaign was loaded from, as the script host lists them: the campaign,
// its ladder files and each module it required (a helpers.lua beside it,
// say), plus the recovery-ladders/ and scripts/ directories beside the
// campaign, so that a file created there is seen. The list is refreshed after
// each reload, which may require new modules.
//
// A saved change (FileWatcher: in place or by rename, debounced) calls
// ScriptHost::reload(), which compiles and validates the whole campaign again
// in a fresh sandbox environment. If that works, the next item runs the new
// version, while an item in flight finishes on the version it started with,
// and a `reload` event with outcome `ok` names the file and the version. If it
// fails (syntax, a raising or runaway top level, validation), the old version
// keeps running and the `reload` event has outcome `fail` with the file, line
// and message of the error. The console's reload() (belay attach) is the same
// reload with the same event.

#include "campaign/event_log.hpp"
#include "core/error.hpp"
#include "core/file_watcher.hpp"
#include "script_host.hpp"

#include <uv.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace belay::cli {

class HotReload {
 public:
  HotReload(uv_loop_t* loop, lua::ScriptHost& host, campaign::EventLog& events,
            const std::string& campaign_path);
  HotReload(const HotReload&) = delete;
  HotReload& operator=(const HotReload&) = delete;

  // Starts watching (not with --no-reload: then only the console reloads).
  void watch();
  // Drops every watch; a reload still works.
  void stop();
  // Reloads now as if `changed` (absolute) was saved, and logs the event.
  Result<nlohmann::json> reload(const std::string& changed);
  // The console's reload(): the campaign, as if it was saved.
  Result<nlohmann::json> reload() { return reload(campaign_); }

 private:
  void watch_loaded_files();

  lua::ScriptHost& host_;
  campaign::EventLog& events_;
  std::string campaign_;
  FileWatcher watcher_;
  bool watching_ = false;
  // What watch_file() was given: giving a file again would restart its
  // baseline and could swallow a change made meanwhile.
  std::set<std::string> watched_;
};

// "file:line: message" of a failed reload -> the event's params {file, line,
// message, kind}; `file` absolute. Without such a prefix: {message, kind}.
nlohmann::json reload_failure(const Error& e);

}  // namespace belay::cli
