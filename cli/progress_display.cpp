#include "progress_display.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace belay::cli {
namespace {

using campaign::plain_line;

constexpr size_t kDefaultWidth = 80;
constexpr std::string_view kEraseToEnd = "\x1b[K";

// The events that get a line of their own above the live line; the rest only
// move its counters. A successful reload is here too: whoever saved the file
// is watching for it to take.
bool worth_a_line(const nlohmann::json& event) {
  if (!event.is_object()) return false;
  const auto name = event.find("event");
  if (name == event.end() || !name->is_string()) return false;
  static const std::array<const char*, 9> kNames = {
      "item_failed", "recover", "pause",  "unpause",      "restarting",
      "fatal",       "reload",  "waiting", "browser_exit"};
  const auto& text = name->get_ref<const std::string&>();
  return std::any_of(kNames.begin(), kNames.end(), [&text](const char* n) { return text == n; });
}

}  // namespace

ProgressDisplay::ProgressDisplay(uv_loop_t* loop, ProgressDisplayOptions options)
    : progress_(std::move(options.clock)),
      fd_(options.fd),
      terminal_(options.terminal ? *options.terminal : ::isatty(options.fd) != 0),
      fixed_width_(options.width) {
  if (!terminal_) return;
  uv_timer_init(loop, timer_.get());
  timer_->data = this;
  const uint64_t interval = std::max<uint64_t>(options.interval_ms, 1);
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<ProgressDisplay*>(timer->data)->redraw();
      },
      interval, interval);
  uv_unref(timer_.as_handle());
}

ProgressDisplay::~ProgressDisplay() { stop(); }

void ProgressDisplay::observe(const nlohmann::json& event) {
  progress_.observe(event);
  if (!terminal_) {
    write_all(plain_line(event) + "\n");
  } else if (worth_a_line(event)) {
    print(plain_line(event));
  }
}

void ProgressDisplay::print(std::string_view text) {
  std::string out;
  if (terminal_ && !stopped_) out += '\r';
  out += text;
  if (terminal_ && !stopped_) {
    // Erase what the live line left to the right of a shorter log line.
    out += kEraseToEnd;
    out += '\n';
    out += live_line();
  } else {
    out += '\n';
  }
  write_all(out);
}

void ProgressDisplay::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!terminal_) return;
  timer_.reset();
  write_all(live_line() + "\n");
}

void ProgressDisplay::redraw() {
  if (!stopped_) write_all(live_line());
}

std::string ProgressDisplay::live_line() const {
  // One column spare: a line that fills the last column leaves many
  // terminals in a pending wrap, where the erase or the next '\r' misbehaves.
  const size_t columns = width();
  return "\r" + progress_.line(columns > 1 ? columns - 1 : columns) + std::string(kEraseToEnd);
}

size_t ProgressDisplay::width() const {
  if (fixed_width_ > 0) return fixed_width_;
  winsize size{};
  if (::ioctl(fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultWidth;
}

void ProgressDisplay::write_all(std::string_view text) const {
  while (!text.empty()) {
    const ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    // A full or closed stderr is not worth blocking or failing the run for.
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace belay::cli
