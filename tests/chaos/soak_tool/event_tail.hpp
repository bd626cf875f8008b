#pragma once
// Follows a run's events.jsonl as it grows: each poll() parses only the
// complete lines appended since the last one, so a long soak does not
// re-read thousands of events every few milliseconds.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace belay::soak {

// A string field of an event, "" when absent or null (belay writes null for
// an event's unset profile, item or outcome).
std::string text(const nlohmann::json& event, const char* field);

class EventTail {
 public:
  explicit EventTail(std::string path) : path_(std::move(path)) {}

  // Reads what was appended; returns how many new events there are.
  size_t poll();
  const std::vector<nlohmann::json>& events() const { return events_; }
  // Lines that were not JSON (belay writes whole lines: should stay 0).
  int bad_lines() const { return bad_lines_; }

  // How many events named `name` (with `outcome` when not empty).
  size_t count(const std::string& name, const std::string& outcome = "") const;
  // The PID of the latest ok browser_launch of `profile`, or 0.
  int latest_launch(const std::string& profile) const;

 private:
  std::string path_;
  uint64_t offset_ = 0;
  std::string partial_;
  std::vector<nlohmann::json> events_;
  int bad_lines_ = 0;
};

}  // namespace belay::soak
