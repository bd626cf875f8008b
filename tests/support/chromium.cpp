#include "support/chromium.hpp"

#include "chrome/devtools_port.hpp"
#include "chrome/proc_table.hpp"
#include "support/run_loop.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

extern char** environ;

namespace belay::test {

std::string chrome_path() {
  const char* env = std::getenv("BELAY_CHROME");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
}

chrome::LaunchOptions launch_options(chrome::TransportKind transport) {
  chrome::LaunchOptions options;
  options.chrome_path = chrome_path();
  options.transport = transport;
  return options;
}

bool group_gone(pid_t pgid, uint64_t wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (!chrome::live_group_members(pgid).empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

ForeignChromium::ForeignChromium(std::string user_data_dir)
    : user_data_dir_(std::move(user_data_dir)) {
  if (user_data_dir_.empty()) {
    char templ[] = "/tmp/belay-foreign-XXXXXX";
    user_data_dir_ = mkdtemp(templ);
    owns_user_data_dir_ = true;
  } else {
    std::filesystem::create_directories(user_data_dir_);
  }
  auto options = launch_options(chrome::TransportKind::websocket);
  std::vector<std::string> args = {options.chrome_path};
  for (auto& f : chrome::default_flags(options)) args.push_back(f);
  args.push_back("--user-data-dir=" + user_data_dir_);
  args.emplace_back("--remote-debugging-port=0");
  args.emplace_back("about:blank");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto endpoint = chrome::read_devtools_port(user_data_dir_)) {
      ws_url_ = endpoint->browser_url();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ForeignChromium::~ForeignChromium() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    group_gone(pid_);
  }
  std::error_code ec;
  if (owns_user_data_dir_) std::filesystem::remove_all(user_data_dir_, ec);
}

bool ForeignChromium::alive() const {
  auto info = chrome::read_proc(pid_);
  return info && info->state != 'Z';
}

Result<nlohmann::json> wait_result(uv_loop_t* loop,
                                   const std::function<void(browser::Page::Done)>& start,
                                   uint64_t timeout_ms) {
  std::optional<Result<nlohmann::json>> out;
  start([&out](Result<nlohmann::json> r) { out = std::move(r); });
  if (!run_until(
          loop, [&] { return out.has_value(); }, timeout_ms)) {
    return Error{Kind::timeout, "test gave up waiting", "test", {}};
  }
  return std::move(*out);
}

}  // namespace belay::test
