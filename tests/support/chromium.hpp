#pragma once
// Helpers for tests that drive a real Chromium.

#include "browser/browser.hpp"
#include "browser/page.hpp"
#include "chrome/chrome_process.hpp"

#include <sys/types.h>

#include <memory>
#include <string>

namespace belay::test {

// /usr/bin/chromium unless BELAY_CHROME names another.
std::string chrome_path();
chrome::LaunchOptions launch_options(chrome::TransportKind transport);

// True once no live process is left in the group `pgid` (waits up to
// `wait_ms` for the kernel to finish reaping).
bool group_gone(pid_t pgid, uint64_t wait_ms = 3000);

// A Chromium the test starts itself, not through belay (for --connect and
// for proving cleanup spares it). Killed by its PID in the destructor.
class ForeignChromium {
 public:
  // In `user_data_dir` (kept afterwards) or a fresh one (removed).
  explicit ForeignChromium(std::string user_data_dir = "");
  ~ForeignChromium();
  pid_t pid() const { return pid_; }
  const std::string& ws_url() const { return ws_url_; }
  bool alive() const;

 private:
  pid_t pid_ = 0;
  std::string user_data_dir_;
  bool owns_user_data_dir_ = false;
  std::string ws_url_;
};

// Synchronous wrappers for tests: each runs the loop until the call ends.
Result<nlohmann::json> wait_result(uv_loop_t* loop,
                                   const std::function<void(browser::Page::Done)>& start,
                                   uint64_t timeout_ms = 30000);

}  // namespace belay::test
