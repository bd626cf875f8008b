#pragma once
// events.jsonl: one event a line, flushed as written, in the shape of
// DESIGN.md: {"ts","campaign","profile","session","item","event","params",
// "outcome","dur_ms"}.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace belay::campaign {

struct Event {
  std::string event;  // run_start, item_ok, reload, ...
  std::string profile;
  std::string session;
  std::string item;  // the item's key
  nlohmann::json params = nlohmann::json::object();
  std::string outcome;  // ok, fail, or empty
  std::optional<uint64_t> dur_ms;
};

// ISO 8601 UTC with milliseconds: 2026-11-22T23:05:29.123Z
std::string iso8601_now();

class EventLog {
 public:
  // An empty path logs nowhere (tests, belay check).
  EventLog(std::string path, std::string campaign);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  bool ok() const { return fd_ >= 0 || path_.empty(); }
  const std::string& error() const { return error_; }
  void set_campaign(std::string campaign) { campaign_ = std::move(campaign); }
  // A line that cannot be written (a full disk, an I/O error) is lost, not
  // fatal: the items' truth is in belay.db. The first loss is told on
  // stderr, and so is the first line written again after losses.
  void write(const Event& event);
  uint64_t lost() const { return lost_; }
  // Every event also goes here (progress line, test hooks).
  void on_event(std::function<void(const nlohmann::json&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  std::string path_;
  std::string campaign_;
  void append(const std::string& line);

  int fd_ = -1;
  std::string error_;
  uint64_t lost_ = 0;
  uint64_t lost_unreported_ = 0;  // since the last line that was written
  bool line_open_ = false;        // a short write left a line without its end
  std::function<void(const nlohmann::json&)> observer_;
};

}  // namespace belay::campaign
