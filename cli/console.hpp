#pragma once
// The prompt both `belay repl` and `belay attach` show: libedit line editing
// (arrow keys, Ctrl-R search, tab completion, history kept in a file), the
// `lua` REPL's continuation rule for incomplete chunks, Ctrl-C that cancels
// the call in progress, Ctrl-D that leaves. With stdin not a terminal it
// reads chunks from stdin and prints each result, for scripting.
//
// The loop runs all the time: while a chunk runs, so browser calls are
// answered, and while the console waits for input, so `attach` sees the run
// end (it says so and exits) and `repl` keeps up with its browser.

#include <uv.h>

#include <functional>
#include <string>
#include <vector>

namespace belay::cli {

class ConsoleBackend {
 public:
  using Evaluated = std::function<void(bool ok, std::string text)>;
  using Completed = std::function<void(std::vector<std::string> candidates)>;
  virtual ~ConsoleBackend() = default;
  // Runs a complete chunk; `done` is called once, from the loop.
  virtual void evaluate(const std::string& chunk, Evaluated done) = 0;
  // Ctrl-C while a chunk runs.
  virtual void cancel() = 0;
  virtual void complete(const std::string& word, Completed done) = 0;
  // False once the other side is gone (attach: the run ended).
  virtual bool alive() const = 0;
};

struct ConsoleOptions {
  std::string history_file;  // empty: no history
  std::string prompt = "> ";
  std::string continuation = ">> ";
  // One line shown before the first prompt on a terminal; empty: none.
  std::string banner;
};

// Runs until Ctrl-D or the end of stdin (or the backend dies). Exit code: 0,
// or 1 when stdin is not a terminal and some chunk failed.
int run_console(uv_loop_t* loop, ConsoleBackend& backend, const ConsoleOptions& options);

}  // namespace belay::cli
