#include "campaign/event_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
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
  fd_ = fd;
  line_open_ = last != '\n';
}

EventLog::~EventLog() {
  if (fd_ >= 0) ::close(fd_);
}

// One write(2) a line, with no stdio buffer in between: a crash loses at
// most the line being written, and a failed write leaves nothing queued to
// land later in the middle of another line.
void EventLog::append(const std::string& line) {
  const std::string text = (line_open_ ? "\n" : "") + line;
  size_t written = 0;
  int error = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (written == text.size()) {
    line_open_ = false;
    if (lost_unreported_ > 0) {
      std::fprintf(stderr, "belay: %s is written again; %llu event(s) were lost before this one\n",
                   path_.c_str(), static_cast<unsigned long long>(lost_unreported_));
      lost_unreported_ = 0;
    }
    return;
  }
  // A partial line stays in the file: the next line starts on its own. (The
  // line has no newline inside; only a leading one can end the file.)
  if (written > 0) line_open_ = text[written - 1] != '\n';
  if (lost_unreported_ == 0) {
    std::fprintf(stderr,
                 "belay: cannot write %s (%s): events are lost until it can; the run goes on "
                 "and its items are kept in belay.db\n",
                 path_.c_str(), std::strerror(error));
  }
  ++lost_;
  ++lost_unreported_;
}

void EventLog::write(const Event& event) {
  // ordered_json keeps DESIGN.md's field order in the file.
  nlohmann::ordered_json line = {
      {"ts", iso8601_now()},
      {"campaign", campaign_},
      {"profile", event.profile.empty() ? nullptr : nlohmann::json(event.profile)},
      {"session", event.session.empty() ? nullptr : nlohmann::json(event.session)},
      {"item", event.item.empty() ? nullptr : nlohmann::json(event.item)},
      {"event", event.event},
      {"params", event.params},
      {"outcome", event.outcome.empty() ? nullptr : nlohmann::json(event.outcome)},
      {"dur_ms", event.dur_ms ? nlohmann::json(*event.dur_ms) : nullptr}};
  if (fd_ >= 0) {
    append(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  }
  if (observer_) observer_(nlohmann::json(line));
}

}  // namespace belay::campaign
