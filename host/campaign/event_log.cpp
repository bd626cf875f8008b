#include "campaign/event_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace belay::campaign {

std::string iso8601_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  const size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof(buffer) - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return buffer;
}

EventLog::EventLog(std::string path, std::string campaign)
    : path_(std::move(path)), campaign_(std::move(campaign)) {
  if (path_.empty()) return;
  // 0600: events can carry item data.
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    error_ = "cannot open " + path_ + ": " + std::strerror(errno);
    return;
  }
  // A host killed in the middle of a line left it without its newline: end
  // it, or this run's first event would be glued to it and lost to readers.
  struct stat st {};
  char last = '\n';
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    if (::pread(fd, &last, 1, st.st_size - 1) != 1) last = '\n';
  }
  file_ = fdopen(fd, "a");
  if (file_ != nullptr && last != '\n') {
    std::fputc('\n', file_);
    std::fflush(file_);
  }
}

EventLog::~EventLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventLog::write(const Event& event) {
  // ordered_json keeps DESIGN.md's field order in the file.
  nlohmann::ordered_json line = {{"ts", iso8601_now()},
                         {"campaign", campaign_},
                         {"profile", event.profile.empty() ? nullptr : nlohmann::json(event.profile)},
                         {"session", event.session.empty() ? nullptr : nlohmann::json(event.session)},
                         {"item", event.item.empty() ? nullptr : nlohmann::json(event.item)},
                         {"event", event.event},
                         {"params", event.params},
                         {"outcome", event.outcome.empty() ? nullptr : nlohmann::json(event.outcome)},
                         {"dur_ms", event.dur_ms ? nlohmann::json(*event.dur_ms) : nullptr}};
  if (file_ != nullptr) {
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), file_);
    std::fflush(file_);  // one line at a time: a crash loses at most the line being written
  }
  if (observer_) observer_(nlohmann::json(line));
}

}  // namespace belay::campaign
