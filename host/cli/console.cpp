#include "console.hpp"

#include "repl_chunk.hpp"

#include <editline/readline.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>

namespace belay::cli {
namespace {

// libedit's completion hook is a plain C function with no user data, so the
// console running now is reachable from it through this pointer (one
// console per process at a time).
ConsoleBackend* g_completing = nullptr;
uv_loop_t* g_completing_loop = nullptr;
std::vector<std::string> g_candidates;

struct Reply {
  bool ok = true;
  std::string text;
};

// Runs the loop until `ready` holds or the backend is gone.
template <typename Ready>
void run_until(uv_loop_t* loop, const ConsoleBackend& backend, Ready ready) {
  while (!ready() && backend.alive()) uv_run(loop, UV_RUN_ONCE);
}

char* next_candidate(const char* /*text*/, int state) {
  static size_t next = 0;
  if (state == 0) next = 0;
  if (next >= g_candidates.size()) return nullptr;
  return strdup(g_candidates[next++].c_str());
}

char** complete_word(const char* text, int /*start*/, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  g_candidates.clear();
  if (g_completing == nullptr) return nullptr;
  bool done = false;
  g_completing->complete(text, [&](std::vector<std::string> found) {
    g_candidates = std::move(found);
    done = true;
  });
  run_until(g_completing_loop, *g_completing, [&] { return done; });
  if (g_candidates.empty()) return nullptr;
  return rl_completion_matches(text, next_candidate);
}

class Session {
 public:
  Session(uv_loop_t* loop, ConsoleBackend& backend, const ConsoleOptions& options)
      : loop_(loop), backend_(backend), options_(options) {
    uv_signal_init(loop_, &sigint_);
    sigint_.data = this;
    // For the console's whole life: Ctrl-C never ends the process; while a
    // chunk runs it cancels the call in progress.
    uv_signal_start(&sigint_, [](uv_signal_t* s, int) {
      auto* self = static_cast<Session*>(s->data);
      if (self->evaluating_) self->backend_.cancel();
    }, SIGINT);
  }

  ~Session() {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
    uv_run(loop_, UV_RUN_NOWAIT);
  }

  int run() { return isatty(STDIN_FILENO) != 0 ? interactive() : scripted(); }

 private:
  Reply evaluate(const std::string& chunk) {
    uv_run(loop_, UV_RUN_NOWAIT);  // a Ctrl-C typed at the prompt is not for this chunk
    std::optional<Reply> reply;
    evaluating_ = true;
    backend_.evaluate(chunk, [&](bool ok, std::string text) { reply = Reply{ok, std::move(text)}; });
    run_until(loop_, backend_, [&] { return reply.has_value(); });
    evaluating_ = false;
    if (!reply) return Reply{false, "the console's host is gone"};
    return *reply;
  }

  static void show(const Reply& reply) {
    if (reply.text.empty()) return;
    std::fflush(stdout);
    std::FILE* out = reply.ok ? stdout : stderr;
    std::fprintf(out, "%s\n", reply.text.c_str());
    std::fflush(out);
  }

  void remember(const char* line) {
    if (options_.history_file.empty() || *line == '\0') return;
    add_history(line);
    // Written at every line, so a console that is killed keeps its history.
    // Created 0600 first: write_history would create it with the umask's
    // mode, and a typed line may hold a password.
    const int fd = ::open(options_.history_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::fchmod(fd, 0600);
      ::close(fd);
    }
    write_history(options_.history_file.c_str());
  }

  // Feeds one line; returns false when the chunk goes on.
  bool feed(const std::string& line, bool* failed) {
    chunk_ += chunk_.empty() ? line : "\n" + line;
    const lua::ChunkPlan plan = lua::plan_chunk(chunk_);
    if (plan.status == lua::ChunkStatus::incomplete) return false;
    Reply reply = plan.status == lua::ChunkStatus::syntax_error
                      ? Reply{false, "script: " + plan.message}
                      : evaluate(chunk_);
    chunk_.clear();
    show(reply);
    if (!reply.ok) *failed = true;
    return true;
  }

  int interactive() {
    rl_readline_name = "belay";
    rl_catch_signals = 0;  // Ctrl-C is the console's (see the signal handler)
    rl_initialize();
    rl_attempted_completion_function = complete_word;
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(1000);
    if (!options_.history_file.empty()) read_history(options_.history_file.c_str());
    g_completing = &backend_;
    g_completing_loop = loop_;
    bool failed = false;
    while (backend_.alive()) {
      const std::string& prompt = chunk_.empty() ? options_.prompt : options_.continuation;
      char* line = readline(prompt.c_str());
      if (line == nullptr) {
        std::printf("\n");
        break;
      }
      remember(line);
      const std::string text(line);
      std::free(line);
      feed(text, &failed);
    }
    g_completing = nullptr;
    return 0;
  }

  int scripted() {
    bool failed = false;
    std::string line;
    while (backend_.alive() && std::getline(std::cin, line)) feed(line, &failed);
    if (!chunk_.empty()) {
      show(Reply{false, "script: the input ended inside an incomplete chunk"});
      failed = true;
    }
    return failed ? 1 : 0;
  }

  uv_loop_t* loop_;
  ConsoleBackend& backend_;
  const ConsoleOptions& options_;
  uv_signal_t sigint_{};
  bool evaluating_ = false;
  std::string chunk_;
};

}  // namespace

int run_console(uv_loop_t* loop, ConsoleBackend& backend, const ConsoleOptions& options) {
  Session session(loop, backend, options);
  return session.run();
}

}  // namespace belay::cli
