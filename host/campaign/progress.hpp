#pragma once
// What `belay run` tells the person watching it. The events of events.jsonl
// are the only input, so the progress line and the plain log lines can never
// disagree with the durable log, and neither needs a hook in the runner.
//
// Progress keeps the counts behind the live line; plain_line() formats one
// event for a log line. Both are pure: no loop, no fd, an injectable clock,
// so they are tested without a terminal. ProgressDisplay
// (progress_display.hpp) puts them on stderr.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace belay::campaign {

class Progress {
 public:
  // Milliseconds from any fixed origin; only differences are used.
  using Clock = std::function<uint64_t()>;

  // An empty clock means the steady clock. Tests pass their own so that rates
  // and ETAs are exact.
  explicit Progress(Clock clock = {});

  // Starts the clock the rate is measured against. A resumed run starts with
  // items finished by earlier runs: they count in done/total but not in the
  // rate, or the first seconds of a resume would promise an absurd speed.
  // `already_failed` is the failed items this run will not try again. Until
  // begin() is called, the total comes from run_start's `items` if it has one.
  void begin(int64_t total, int64_t already_done, int64_t already_failed);

  // Takes one event as EventLog hands it to its observer. Any JSON is
  // accepted and anything unexpected is ignored: a display must never be the
  // thing that stops a run.
  void observe(const nlohmann::json& event);

  // The live line, at most `width` columns (code points; no newline, no
  // escape sequences), e.g. (one line)
  //   belay  37/100 done  2 failed  1.8 items/s  ETA 0:35  retries 4
  //   recoveries 1  restarts 0  paused p2
  // "paused P,Q" and "fatal P,Q" appear only when some profile is;
  // "waiting P 0:12,Q 0:03" while a `waiting` event's wait runs (it counts
  // down, and ends early at the profile's next event; "run" names a wait of
  // the whole run, as when every profile is paused).
  std::string line(size_t width) const;

  // Items per second, or nothing before this run has finished an item.
  //
  // Window: over the last 30 s once the run is older than that and at least
  // 3 items finished in it, so that an hours-long run shows today's speed
  // (memory creep, a paused profile) rather than its lifetime average.
  // Otherwise the whole run's average (items this run / seconds since
  // begin): items slower than 10 s each would make a 30 s window jump
  // between 0 and a few items, and a stalled run keeps an ETA instead of
  // dropping to "--".
  std::optional<double> rate() const;
  // Seconds to finish the remaining items at rate(); nothing without a rate
  // or a total.
  std::optional<uint64_t> eta_seconds() const;

  int64_t total() const { return total_; }
  int64_t done() const { return done_; }
  int64_t failed() const { return failed_; }
  int64_t retries() const { return retries_; }
  int64_t recoveries() const { return recoveries_; }
  int64_t restarts() const { return restarts_; }
  const std::set<std::string>& paused() const { return paused_; }
  const std::set<std::string>& fatal() const { return fatal_; }

 private:
  void finished_one();

  Clock clock_;
  uint64_t started_ms_ = 0;
  bool begun_ = false;
  int64_t total_ = -1;  // unknown until begin() or run_start
  int64_t done_ = 0;
  int64_t failed_ = 0;
  int64_t finished_this_run_ = 0;
  int64_t retries_ = 0;
  int64_t recoveries_ = 0;
  int64_t restarts_ = 0;
  std::set<std::string> paused_;
  std::set<std::string> fatal_;
  std::map<std::string, uint64_t> waiting_until_;  // profile -> clock_() when its wait ends
  std::deque<uint64_t> recent_;  // finish times inside the rate window, oldest first
};

// "0:35", "59:59", "1:02:03": m:ss under an hour, h:mm:ss from one hour on.
std::string format_eta(uint64_t seconds);

// One event as a plain log line (no newline), for output that is not a
// terminal and for the lines printed above the live line:
//   retry profile=p1 item=k3 kind=context_destroyed attempt=1 wait_ms=212
//   item_failed fail profile=p1 item=k3 kind=timeout op=page:goto dur_ms=30004 message="Timed out"
// The event name, then its outcome, then profile= and item=, then the
// scalar params (kind, step, name, reason, op, attempt, wait_ms, until_ms
// first, the rest by name; an error table shows as its kind; other objects,
// arrays, nulls and `result` are left to events.jsonl), then dur_ms=, then
// the message, which is the long one. A value with
// spaces, quotes, '=' or control characters is written as a JSON string, so
// an item key can neither split the line nor send escape sequences to a
// terminal; long strings are cut.
// Never throws, whatever the JSON.
std::string plain_line(const nlohmann::json& event);

}  // namespace belay::campaign
