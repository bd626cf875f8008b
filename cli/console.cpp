#include "console.hpp"

#include "repl/repl_chunk.hpp"

#include <editline/readline.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace belay::cli {
namespace {

// libedit's completion and character hooks are plain C functions with no
// user data, so the console running now is reachable from them through
// these pointers (one console per process at a time).
ConsoleBackend* g_console = nullptr;
uv_loop_t* g_console_loop = nullptr;
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

// Waits until stdin has input (or its end) while the loop runs: an
// attached console sees the run end, and a local one answers its browser,
// even while nobody types. The loop's own descriptor is polled beside stdin
// (libuv's embedding interface), so an idle console sleeps. False once the
// backend is gone.
bool wait_for_stdin(uv_loop_t* loop, const ConsoleBackend& backend) {
  for (;;) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (!backend.alive()) return false;
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {uv_backend_fd(loop), POLLIN, 0}};
    const int ready = ::poll(fds, 2, uv_backend_timeout(loop));
    if (ready < 0 && errno != EINTR) return true;  // the read reports it
    if (ready > 0 && fds[0].revents != 0) return true;
  }
}

// One byte of stdin, or EOF at its end, on an error, or when the backend is
// gone first.
int read_stdin_byte(uv_loop_t* loop, const ConsoleBackend& backend) {
  for (;;) {
    if (!wait_for_stdin(loop, backend)) return EOF;
    unsigned char byte = 0;
    const ssize_t n = ::read(STDIN_FILENO, &byte, 1);
    if (n == 1) return byte;
    if (n == 0 || errno != EINTR) return EOF;
  }
}

// libedit's character source while the console waits for a line. libedit
// takes what this returns for a whole character, so UTF-8 is decoded here;
// a malformed sequence is U+FFFD.
int console_getc(FILE* /*in*/) {
  const int lead = read_stdin_byte(g_console_loop, *g_console);
  if (lead == EOF || lead < 0x80) return lead;
  int extra = 0;
  int code = 0;
  if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    code = lead & 0x07;
  } else {
    return 0xFFFD;
  }
  for (int i = 0; i < extra; ++i) {
    const int next = read_stdin_byte(g_console_loop, *g_console);
    if (next == EOF) return EOF;
    if ((next & 0xC0) != 0x80) return 0xFFFD;
    code = (code << 6) | (next & 0x3F);
  }
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  return code > 0x10FFFF || surrogate ? 0xFFFD : code;
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
  if (g_console == nullptr) return nullptr;
  bool done = false;
  g_console->complete(text, [&](std::vector<std::string> found) {
    g_candidates = std::move(found);
    done = true;
  });
  run_until(g_console_loop, *g_console, [&] { return done; });
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
    uv_signal_start(
        &sigint_,
        [](uv_signal_t* s, int) {
          auto* self = static_cast<Session*>(s->data);
          if (self->evaluating_) self->backend_.cancel();
        },
        SIGINT);
  }

  ~Session() {
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
    uv_run(loop_, UV_RUN_NOWAIT);
  }

  int run() {
    if (isatty(STDIN_FILENO) == 0) return scripted();
    if (!options_.banner.empty()) std::printf("%s\n", options_.banner.c_str());
    return interactive();
  }

 private:
  Reply evaluate(const std::string& chunk) {
    uv_run(loop_, UV_RUN_NOWAIT);  // a Ctrl-C typed at the prompt is not for this chunk
    std::optional<Reply> reply;
    evaluating_ = true;
    backend_.evaluate(chunk, [&](bool ok, std::string text) {
      reply = Reply{ok, std::move(text)};
    });
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
    // libedit reads and writes characters through the C library's locale;
    // in the default "C" locale it refuses every non-ASCII key. The
    // console's text is UTF-8 whatever the environment says.
    std::setlocale(LC_CTYPE, "C.UTF-8");
    rl_readline_name = "belay";
    rl_catch_signals = 0;             // Ctrl-C is the console's (see the signal handler)
    rl_getc_function = console_getc;  // read at rl_initialize
    g_console = &backend_;
    g_console_loop = loop_;
    rl_initialize();
    rl_attempted_completion_function = complete_word;
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(1000);
    if (!options_.history_file.empty()) read_history(options_.history_file.c_str());
    bool failed = false;
    while (backend_.alive()) {
      const std::string& prompt = chunk_.empty() ? options_.prompt : options_.continuation;
      char* line = readline(prompt.c_str());
      if (line == nullptr) {
        std::printf("\n");
        std::fflush(stdout);
        break;
      }
      remember(line);
      const std::string text(line);
      std::free(line);
      feed(text, &failed);
    }
    g_console = nullptr;
    return 0;
  }

  // The next line of stdin without its newline; false at the end of stdin
  // (a last line without a newline still counts) or once the backend is gone.
  bool next_line(std::string* line) {
    for (;;) {
      const size_t newline = pending_.find('\n');
      if (newline != std::string::npos) {
        *line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return true;
      }
      if (stdin_ended_) {
        if (pending_.empty()) return false;
        *line = std::move(pending_);
        pending_.clear();
        return true;
      }
      if (!wait_for_stdin(loop_, backend_)) return false;
      char buffer[4096];
      const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        pending_.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        stdin_ended_ = true;
      }
    }
  }

  int scripted() {
    bool failed = false;
    std::string line;
    while (backend_.alive() && next_line(&line)) feed(line, &failed);
    if (!backend_.alive()) return failed ? 1 : 0;
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
  std::string pending_;  // stdin read but not yet a whole line (scripted)
  bool stdin_ended_ = false;
};

}  // namespace

int run_console(uv_loop_t* loop, ConsoleBackend& backend, const ConsoleOptions& options) {
  Session session(loop, backend, options);
  return session.run();
}

}  // namespace belay::cli
