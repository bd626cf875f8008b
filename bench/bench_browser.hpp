#pragma once
// One launched Chromium with one page on a loop of its own, for the C++
// benchmarks: launched and opened in the constructor, closed (process group
// and loop) in the destructor, whatever path the benchmark took.

#include "browser/browser.hpp"
#include "browser/page.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

namespace belay::bench {

class BenchBrowser {
 public:
  explicit BenchBrowser(belay::chrome::TransportKind kind) {
    uv_loop_init(&loop_);
    belay::chrome::LaunchOptions options;
    if (const char* path = std::getenv("BELAY_CHROME")) options.chrome_path = path;
    options.transport = kind;
    std::optional<std::optional<belay::Error>> ready;
    browser_ = belay::browser::Browser::launch(&loop_, options,
                                               [&](std::optional<belay::Error> e) { ready = e; });
    spin([&] { return ready.has_value(); });
    if (*ready) {
      std::fprintf(stderr, "launch failed: %s\n", (*ready)->to_string().c_str());
      return;
    }
    std::optional<belay::Result<std::unique_ptr<belay::browser::Page>>> page;
    browser_->new_page(
        [&](belay::Result<std::unique_ptr<belay::browser::Page>> p) { page = std::move(p); });
    spin([&] { return page.has_value(); });
    if (page->ok()) {
      page_ = std::move(page->value());
    } else {
      std::fprintf(stderr, "new page failed: %s\n", page->error().to_string().c_str());
    }
  }

  ~BenchBrowser() {
    page_.reset();
    bool closed = false;
    browser_->close([&] { closed = true; });
    spin([&] { return closed; });
    browser_.reset();
    while (uv_run(&loop_, UV_RUN_NOWAIT) != 0) {
    }
    uv_loop_close(&loop_);
  }
  BenchBrowser(const BenchBrowser&) = delete;
  BenchBrowser& operator=(const BenchBrowser&) = delete;

  uv_loop_t* loop() { return &loop_; }
  // Null when the launch or the page failed (already reported on stderr).
  belay::browser::Page* page() { return page_.get(); }

  // Runs the loop until `done()`; false if the loop ran dry first.
  template <typename Pred>
  bool spin(Pred done) {
    while (!done()) {
      if (uv_run(&loop_, UV_RUN_ONCE) == 0 && !done()) return false;
    }
    return true;
  }

 private:
  uv_loop_t loop_{};
  std::unique_ptr<belay::browser::Browser> browser_;
  std::unique_ptr<belay::browser::Page> page_;
};

}  // namespace belay::bench
