// Pipelined throughput: Runtime.evaluate("1+1") with `window` commands in
// flight at every moment through belay's C++ CDP core, over each transport,
// against the same Chromium. A Lua campaign cannot pipeline (browser calls
// run one at a time in the item's coroutine, docs/lua-api.md), so this is
// belay's figure for "many evaluates in flight".
//
//   build/release/bench-cdp-pipeline [--n 4000] [--window 32] [--transport pipe|ws|both]
//
// Prints one line per transport: "pipelined evaluate (pipe) window=32 n=4000
// per_s=12345.6" (the best and median of the interleaved rounds).

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

// Keeps `window` evaluates in flight until `n` have been answered.
class Pipeline {
 public:
  Pipeline(browser::Page& page, int n, int window) : page_(page), n_(n), window_(window) {}

  void start() {
    for (int i = 0; i < window_ && sent_ < n_; ++i) send_one();
  }
  bool finished() const { return answered_ == n_; }
  int failures() const { return failures_; }

 private:
  void send_one() {
    ++sent_;
    page_.send(cdp::Command{"Runtime.evaluate",
                            {{"expression", "1+1"}, {"returnByValue", true}},
                            "",
                            10000,
                            "bench"},
               [this](Result<nlohmann::json> r) {
                 ++answered_;
                 if (!r.ok()) ++failures_;
                 if (sent_ < n_) send_one();
               });
  }

  browser::Page& page_;
  int n_;
  int window_;
  int sent_ = 0;
  int answered_ = 0;
  int failures_ = 0;
};

// Evaluates per second in one browser, or a negative number on failure.
double measure(chrome::TransportKind kind, int n, int window) {
  belay::bench::BenchBrowser browser(kind);
  if (browser.page() == nullptr) return -1;
  Pipeline warmup(*browser.page(), 200, window);
  warmup.start();
  browser.spin([&] { return warmup.finished(); });
  Pipeline run(*browser.page(), n, window);
  const auto start = std::chrono::steady_clock::now();
  run.start();
  browser.spin([&] { return run.finished(); });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run.failures() == 0 ? n / s : -1;
}

void print(const char* transport, int window, int n, const std::vector<double>& rounds) {
  std::printf("pipelined evaluate (%s) window=%d n=%d per_s=%.1f best=%.1f\n", transport, window, n,
              belay::bench::percentile(rounds, 50), belay::bench::percentile(rounds, 100));
}

}  // namespace

int main(int argc, char** argv) {
  int n = 4000;
  int window = 32;
  int rounds = 2;
  std::string which = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--n") == 0) n = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--window") == 0) window = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--transport") == 0) which = argv[i + 1];
  }
  if (n < 1 || window < 1 || rounds < 1) return 2;
  std::vector<double> pipe;
  std::vector<double> ws;
  // Interleaved rounds, each with a fresh browser, as in bench-cdp-roundtrip.
  for (int round = 0; round < rounds; ++round) {
    if (which != "ws") pipe.push_back(measure(chrome::TransportKind::pipe, n, window));
    if (which != "pipe") ws.push_back(measure(chrome::TransportKind::websocket, n, window));
  }
  for (const auto* v : {&pipe, &ws}) {
    for (double x : *v) {
      if (x < 0) return 1;
    }
  }
  if (!pipe.empty()) print("pipe", window, n, pipe);
  if (!ws.empty()) print("ws", window, n, ws);
  return 0;
}
