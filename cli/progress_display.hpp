#pragma once
// Puts Progress on stderr for `belay run`. On a terminal: one live line,
// redrawn in place, with the events a person should notice (a failed item, a
// recovery, a pause, a restart, a fatal profile, a reload, a browser exit)
// printed as log lines above it. Off a terminal (a pipe, a file, CI): one
// plain line per event and no escape sequences, so the output greps and
// diffs.
//
// Writes go straight to the fd with write(2), one write per update, so the
// clear-print-redraw of an event cannot be split by the line itself. Other
// output on the same fd while the line is drawn lands in the middle of it:
// route it through print().

#include "campaign/progress.hpp"
#include "core/uv_handle.hpp"

#include <unistd.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace belay::cli {

struct ProgressDisplayOptions {
  int fd = STDERR_FILENO;  // not owned; tests pass a pipe
  // Unset: isatty(fd). Tests force terminal mode on a pipe.
  std::optional<bool> terminal;
  uint64_t interval_ms = 500;
  // 0: the terminal's width (TIOCGWINSZ), asked at every redraw so that a
  // resize takes effect; 80 when the fd cannot say.
  size_t width = 0;
  campaign::Progress::Clock clock;  // for Progress; empty: the steady clock
};

class ProgressDisplay {
 public:
  // In terminal mode, starts the redraw timer on `loop`. The timer is
  // unreferenced: the display never keeps a finished run's loop alive.
  ProgressDisplay(uv_loop_t* loop, ProgressDisplayOptions options = {});
  // Calls stop(). The timer's memory is freed by its close callback, so the
  // loop must run once more before uv_loop_close (as for every handle).
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // For begin(); the display reads it at each redraw.
  campaign::Progress& progress() { return progress_; }
  bool terminal() const { return terminal_; }

  // The EventLog observer: counts the event and prints what it should.
  void observe(const nlohmann::json& event);
  // One log line (no newline needed) that must not tear the live line, e.g.
  // a script's log output.
  void print(std::string_view text);
  // Closes the timer (uv_close) and leaves the final line on screen, ended
  // with a newline. Events after stop() still print, as plain lines.
  // Idempotent.
  void stop();

 private:
  void redraw();
  std::string live_line() const;
  size_t width() const;
  void write_all(std::string_view text) const;

  campaign::Progress progress_;
  int fd_;
  bool terminal_;
  size_t fixed_width_;
  bool stopped_ = false;
  UvHandle<uv_timer_t> timer_;
};

}  // namespace belay::cli
