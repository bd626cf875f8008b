// belay-fixture [--port N] [--static DIR]
//
// Serves the test fixture pages (support/fixture_server.hpp) for shell tests
// and benchmarks. Prints one line, "port=NNNN", once listening, and serves
// until SIGTERM or SIGINT, then closes every handle and exits 0.

#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "support/fixture_server.hpp"

namespace {

struct Options {
  int port = 0;
  std::string static_dir;
};

std::optional<int> parse_port(const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 0 || value > 65535) return std::nullopt;
  return static_cast<int>(value);
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc || (arg != "--port" && arg != "--static")) return std::nullopt;
    const char* value = argv[++i];
    if (arg == "--static") {
      options.static_dir = value;
    } else if (auto port = parse_port(value)) {
      options.port = *port;
    } else {
      return std::nullopt;
    }
  }
  return options;
}

// The server and the signal handles that stop it share the default loop.
class FixtureApp {
 public:
  explicit FixtureApp(uv_loop_t* loop) : loop_(loop), server_(loop) {}

  int run(const Options& options) {
    server_.set_static_dir(options.static_dir);
    const int port = server_.start(options.port);
    if (port < 0) {
      std::fprintf(stderr, "belay-fixture: cannot listen: %s\n", uv_strerror(port));
      server_.stop();
      uv_run(loop_, UV_RUN_DEFAULT);
      return 1;
    }
    watch(&sigterm_, SIGTERM);
    watch(&sigint_, SIGINT);
    std::printf("port=%d\n", port);
    std::fflush(stdout);
    uv_run(loop_, UV_RUN_DEFAULT);
    return 0;
  }

 private:
  void watch(uv_signal_t* signal, int signum) {
    uv_signal_init(loop_, signal);
    signal->data = this;
    uv_signal_start(signal, on_signal, signum);
  }

  // Closing the last handle lets uv_run return.
  static void on_signal(uv_signal_t* signal, int) {
    auto* self = static_cast<FixtureApp*>(signal->data);
    self->server_.stop();
    uv_close(reinterpret_cast<uv_handle_t*>(&self->sigterm_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&self->sigint_), nullptr);
  }

  uv_loop_t* loop_;
  belay::test::FixtureServer server_;
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
};

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Options> options = parse_options(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: belay-fixture [--port N] [--static DIR]\n");
    return 2;
  }
  uv_loop_t* loop = uv_default_loop();
  int status = 0;
  {
    FixtureApp app(loop);
    status = app.run(*options);
  }
  if (const int err = uv_loop_close(loop); err != 0) {
    std::fprintf(stderr, "belay-fixture: loop did not close: %s\n", uv_strerror(err));
    return 1;
  }
  return status;
}
