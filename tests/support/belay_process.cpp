#include "support/belay_process.hpp"

#include "chrome/proc_table.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace belay::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\"'\\$`") == std::string::npos) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::atomic<int> next_log_id{0};

}  // namespace

std::string belay_binary() { return std::string(BELAY_BINARY_DIR) + "/belay"; }

std::string source_path(const std::string& relative) {
  return std::string(BELAY_SOURCE_DIR) + "/" + relative;
}

// --- TempDir -----------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << templ << "): " << std::strerror(errno);
    return;
  }
  path_ = templ;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  // Safety net for a failed test: whatever still runs with this unique path
  // on its command line was started by this test. By PID, never by name.
  for (pid_t pid : processes_mentioning(path_)) ::kill(pid, SIGKILL);
  if (!wait_no_process_mentioning(path_, std::chrono::seconds(3)).empty()) {
    ADD_FAILURE() << "processes mentioning " << path_ << " survived SIGKILL";
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
  // Chromium may still be flushing into a profile while we remove it.
  if (ec || fs::exists(path_)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    fs::remove_all(path_, ec);
  }
}

std::string TempDir::file(const std::string& name) const { return path_ + "/" + name; }

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const std::string path = file(name);
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
  return path;
}

// --- BelayProcess ------------------------------------------------------------

BelayProcess::BelayProcess(std::vector<std::string> args, const std::string& log_dir,
                           BelayOptions options)
    : args_(std::move(args)) {
  const int id = next_log_id++;
  out_path_ = log_dir + "/belay-" + std::to_string(id) + ".out";
  err_path_ = log_dir + "/belay-" + std::to_string(id) + ".err";
  const std::string cwd = options.cwd.empty() ? log_dir : options.cwd;

  // Everything the child needs is built before fork(): between fork and exec
  // only async-signal-safe calls are allowed (the test has other threads).
  const std::string binary = options.binary.empty() ? belay_binary() : options.binary;
  std::vector<std::string> argv_store;
  argv_store.push_back(binary);
  for (const auto& a : args_) argv_store.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [key, value] : options.env) env[key] = value;
  std::vector<std::string> env_store;
  for (const auto& [key, value] : env) env_store.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const std::string in_path = options.stdin_path.empty() ? "/dev/null" : options.stdin_path;
  const int in_fd = options.stdin_fd >= 0 ? ::fcntl(options.stdin_fd, F_DUPFD_CLOEXEC, 3)
                                          : ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) ADD_FAILURE() << "cannot open the log files in " << log_dir;
  if (in_fd < 0) ADD_FAILURE() << "cannot open stdin for belay: " << in_path;
  const bool dies_with_parent = options.dies_with_parent;
  const bool set_umask = options.umask.has_value();
  const mode_t child_umask = options.umask.value_or(022);

  started_ = Clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    if (dies_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // A driver that ignores SIGPIPE must not pass that on to belay.
    ::signal(SIGPIPE, SIG_DFL);
    if (::chdir(cwd.c_str()) != 0) _exit(126);
    if (set_umask) ::umask(child_umask);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
  if (in_fd >= 0) ::close(in_fd);
  if (pid_ < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    exited_ = true;
    exit_code_ = 127;
    ended_ = started_;
  }
}

BelayProcess::~BelayProcess() { kill_now(); }

void BelayProcess::kill_now() {
  if (pid_ <= 0 || exited_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) reap(status);
}

void BelayProcess::reap(int status) {
  exited_ = true;
  ended_ = Clock::now();
  if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code_ = -1;
    term_signal_ = WTERMSIG(status);
  }
}

bool BelayProcess::running() {
  if (exited_ || pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) reap(status);
  return !exited_;
}

bool BelayProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

int BelayProcess::wait(std::chrono::milliseconds timeout) {
  if (!wait_for_exit(timeout)) {
    timed_out_ = true;
    kill_now();
  }
  return exit_code_;
}

void BelayProcess::send_signal(int sig) {
  if (pid_ > 0 && running()) ::kill(pid_, sig);
}

double BelayProcess::seconds() const {
  const auto end = exited_ ? ended_ : Clock::now();
  return std::chrono::duration<double>(end - started_).count();
}

std::string BelayProcess::out() const { return read_all(out_path_); }
std::string BelayProcess::err() const { return read_all(err_path_); }

std::string BelayProcess::err_tail(size_t lines) const {
  std::istringstream in(err());
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string tail;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    tail += "  " + all[i] + "\n";
  }
  return tail;
}

std::string BelayProcess::exit_summary() const {
  if (!exited_) return "running";
  if (term_signal_ != 0) return "signal " + std::to_string(term_signal_);
  return "exit " + std::to_string(exit_code_);
}

std::string BelayProcess::describe() const {
  std::string text = "belay";
  for (const auto& a : args_) text += " " + quote(a);
  text += " -> " + (timed_out_ ? std::string("TIMED OUT (killed)") : exit_summary());
  return text + "\n--- stdout:\n" + out() + "--- stderr:\n" + err();
}

BelayRun run_belay(std::vector<std::string> args, const std::string& log_dir,
                   std::chrono::milliseconds timeout, BelayOptions options) {
  BelayProcess process(std::move(args), log_dir, std::move(options));
  process.wait(timeout);
  return BelayRun{process.exit_code(), process.timed_out(), process.out(),
                  process.err(),       process.seconds(),   process.describe()};
}

// --- events.jsonl ------------------------------------------------------------

std::vector<std::string> read_complete_lines(const std::string& path) {
  const std::string text = read_all(path);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::vector<nlohmann::json> read_events(const std::string& path) {
  std::vector<nlohmann::json> events;
  for (const auto& line : read_complete_lines(path)) {
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_discarded()) {
      ADD_FAILURE() << path << ": a line that is not JSON: " << line;
      continue;
    }
    events.push_back(std::move(parsed));
  }
  return events;
}

std::vector<nlohmann::json> wait_for_events(const std::string& path,
                                            const std::function<bool(const nlohmann::json&)>& match,
                                            size_t count, std::chrono::milliseconds timeout,
                                            BelayProcess* process) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // Whether it ran is read before the file, so a last line written just
    // before exiting is not missed.
    const bool alive = process == nullptr || process->running();
    std::vector<nlohmann::json> found;
    for (const auto& line : read_complete_lines(path)) {
      auto event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_discarded() && match(event)) found.push_back(std::move(event));
    }
    if (found.size() >= count || !alive || Clock::now() >= deadline) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::optional<nlohmann::json> wait_for_event(
    const std::string& path, const std::function<bool(const nlohmann::json&)>& match,
    std::chrono::milliseconds timeout, BelayProcess* process) {
  auto found = wait_for_events(path, match, 1, timeout, process);
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<int64_t> parse_iso8601_ms(const std::string& text) {
  static const std::regex shape(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$)");
  std::smatch m;
  if (!std::regex_match(text, m, shape)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000 + std::stoi(m[7]);
}

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --- processes ---------------------------------------------------------------

std::string cmdline_of(pid_t pid) {
  std::string text;
  for (const auto& arg : chrome::read_proc_strings(pid, "cmdline")) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

std::vector<pid_t> processes_mentioning(const std::string& needle, pid_t except) {
  std::vector<pid_t> out;
  if (needle.empty()) return out;
  const pid_t self = ::getpid();
  for (const auto& p : chrome::list_processes()) {
    if (p.pid == self || p.pid == except || p.state == 'Z') continue;
    if (cmdline_of(p.pid).find(needle) != std::string::npos) out.push_back(p.pid);
  }
  return out;
}

std::vector<pid_t> wait_no_process_mentioning(const std::string& needle,
                                              std::chrono::milliseconds timeout, pid_t except) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = processes_mentioning(needle, except);
    if (left.empty() || Clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace belay::test
