// Round trip of Runtime.evaluate("1+1") through belay's C++ CDP core, over
// each transport, against the same Chromium. The floor every Lua-level
// figure is compared with.
//
//   build/release/bench-cdp-roundtrip [--n 1000] [--transport pipe|ws|both]

#include "cdp/browser.hpp"
#include "cdp/page.hpp"
#include "stats.hpp"

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

using belay::Error;
using belay::Result;
namespace cdp = belay::cdp;
namespace chrome = belay::chrome;

namespace {

template <typename Pred>
bool spin(uv_loop_t* loop, Pred done) {
  while (!done()) {
    if (uv_run(loop, UV_RUN_ONCE) == 0 && !done()) return false;
  }
  return true;
}

int measure(chrome::TransportKind kind, int n, std::vector<double>& samples) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  chrome::LaunchOptions options;
  if (const char* path = std::getenv("BELAY_CHROME")) options.chrome_path = path;
  options.transport = kind;
  std::optional<std::optional<Error>> ready;
  auto browser = cdp::Browser::launch(&loop, options, [&](std::optional<Error> e) { ready = e; });
  spin(&loop, [&] { return ready.has_value(); });
  if (*ready) {
    std::fprintf(stderr, "launch failed: %s\n", (*ready)->to_string().c_str());
    return 1;
  }
  std::optional<Result<std::unique_ptr<cdp::Page>>> page;
  browser->new_page([&](Result<std::unique_ptr<cdp::Page>> p) { page = std::move(p); });
  spin(&loop, [&] { return page.has_value(); });
  if (!page->ok()) return 1;
  auto& p = *page->value();
  const int warmup = 50;
  for (int i = 0; i < n + warmup; ++i) {
    bool done = false;
    const auto start = std::chrono::steady_clock::now();
    p.send(cdp::Command{"Runtime.evaluate", {{"expression", "1+1"}, {"returnByValue", true}}, "",
                        5000, "bench"},
           [&](Result<nlohmann::json> r) {
             done = true;
             if (!r.ok()) std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
           });
    spin(&loop, [&] { return done; });
    const auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() -
                                                              start)
                        .count();
    if (i >= warmup) samples.push_back(us);
  }
  page->value().reset();
  bool closed = false;
  browser->close([&] { closed = true; });
  spin(&loop, [&] { return closed; });
  browser.reset();
  while (uv_run(&loop, UV_RUN_NOWAIT) != 0) {
  }
  uv_loop_close(&loop);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1000;
  std::string which = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--n") == 0) n = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--transport") == 0) which = argv[i + 1];
  }
  int rc = 0;
  std::vector<double> pipe;
  std::vector<double> ws;
  // Interleaved rounds, each with a fresh browser, so drift in machine load
  // hits both transports alike.
  for (int round = 0; round < 2; ++round) {
    if (which != "ws") rc |= measure(chrome::TransportKind::pipe, n / 2, pipe);
    if (which != "pipe") rc |= measure(chrome::TransportKind::websocket, n / 2, ws);
  }
  if (!pipe.empty()) belay::bench::print_summary("cdp evaluate 1+1 (pipe)", pipe);
  if (!ws.empty()) belay::bench::print_summary("cdp evaluate 1+1 (ws)", ws);
  if (!pipe.empty() && !ws.empty()) {
    std::printf("ratio ws/pipe (median)       %.2f\n",
                belay::bench::percentile(ws, 50) / belay::bench::percentile(pipe, 50));
  }
  return rc;
}
