#include "host_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace belay::soak {

HostProcess::HostProcess(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& log_prefix)
    : err_path_(log_prefix + ".err") {
  // Everything is built before fork(): the soak has a fixture server thread.
  std::vector<std::string> store = {binary};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : store) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = log_prefix + ".out";
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = ::fork();
  if (pid_ == 0) {
    // A soak that dies takes its host with it; the soak ignores SIGPIPE, belay must not inherit
    // that.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  for (int fd : {out_fd, err_fd, null_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (pid_ < 0) {
    exited_ = true;
    exit_code_ = 127;
  }
}

HostProcess::~HostProcess() {
  if (running()) kill_now();
}

void HostProcess::reap(int status) {
  exited_ = true;
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
}

bool HostProcess::running() {
  if (exited_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) reap(status);
  return !exited_;
}

bool HostProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void HostProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

void HostProcess::kill_now() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) reap(status);
}

std::string HostProcess::describe_exit() const {
  if (!exited_) return "running";
  if (term_signal_ != 0) return "signal " + std::to_string(term_signal_);
  return "exit " + std::to_string(exit_code_);
}

std::string HostProcess::err_tail(size_t lines) const {
  std::ifstream in(err_path_);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::ostringstream out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out << "  " << all[i] << "\n";
  }
  return out.str();
}

}  // namespace belay::soak
