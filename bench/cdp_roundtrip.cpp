// Round trip of Runtime.evaluate("1+1") through belay's C++ CDP core, over
// each transport, against the same Chromium. The floor every Lua-level
// figure is compared with.
//
//   build/release/bench-cdp-roundtrip [--n 1000] [--transport pipe|ws|both]

#include "bench_browser.hpp"
#include "stats.hpp"

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

using belay::Error;
using belay::Result;
namespace cdp = belay::cdp;
namespace browser = belay::browser;
namespace chrome = belay::chrome;

namespace {

int measure(chrome::TransportKind kind, int n, std::vector<double>& samples) {
  belay::bench::BenchBrowser browser(kind);
  if (browser.page() == nullptr) return 1;
  auto& p = *browser.page();
  const int warmup = 50;
  for (int i = 0; i < n + warmup; ++i) {
    bool done = false;
    const auto start = std::chrono::steady_clock::now();
    p.send(cdp::Command{"Runtime.evaluate",
                        {{"expression", "1+1"}, {"returnByValue", true}},
                        "",
                        5000,
                        "bench"},
           [&](Result<nlohmann::json> r) {
             done = true;
             if (!r.ok()) std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
           });
    browser.spin([&] { return done; });
    const auto us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (i >= warmup) samples.push_back(us);
  }
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
