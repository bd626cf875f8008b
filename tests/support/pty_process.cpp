#include "support/pty_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>

namespace belay::test {

using Clock = std::chrono::steady_clock;

PtyProcess::PtyProcess(std::vector<std::string> argv, const std::string& cwd,
                       std::vector<std::pair<std::string, std::string>> env) {
  struct winsize size {};
  size.ws_row = 40;
  size.ws_col = 200;  // wide: a long line is not wrapped by libedit
  pid_ = forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) {
    ADD_FAILURE() << "forkpty failed";
    return;
  }
  if (pid_ == 0) {
    setenv("TERM", "xterm", 1);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
}

PtyProcess::~PtyProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_) reap(status);
  }
  if (master_ >= 0) close(master_);
}

void PtyProcess::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(master_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        pump(std::chrono::milliseconds(10));
        continue;
      }
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void PtyProcess::send_line(std::string_view line) {
  send(line);
  send("\r");
}

void PtyProcess::pump(std::chrono::milliseconds timeout) {
  pollfd p{master_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(master_, buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN, or EIO once the child closed the terminal
    output_.append(buf, static_cast<size_t>(n));
  }
}

bool PtyProcess::expect(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const size_t at = output_.find(needle, mark_);
    if (at != std::string::npos) {
      mark_ = at + needle.size();
      return true;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pump(std::min(left, std::chrono::milliseconds(100)));
  }
}

bool PtyProcess::wait_raw_mode(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    termios mode{};
    if (tcgetattr(master_, &mode) == 0 && (mode.c_lflag & ICANON) == 0) return true;
    if (Clock::now() >= deadline) return false;
    pump(std::chrono::milliseconds(10));
  }
}

void PtyProcess::mark() {
  pump(std::chrono::milliseconds(0));
  mark_ = output_.size();
}

std::string PtyProcess::output() {
  pump(std::chrono::milliseconds(0));
  return output_;
}

std::string PtyProcess::recent() {
  pump(std::chrono::milliseconds(0));
  return output_.substr(std::min(mark_, output_.size()));
}

bool PtyProcess::running() {
  if (exited_ || pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reap(status);
    return false;
  }
  return true;
}

bool PtyProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running() && Clock::now() < deadline) pump(std::chrono::milliseconds(20));
  return !running();
}

int PtyProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      if (waitpid(pid_, &status, 0) == pid_) reap(status);
      break;
    }
    pump(std::chrono::milliseconds(50));  // keep the pty drained so it can finish writing
  }
  return exit_code_;
}

void PtyProcess::reap(int status) {
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace belay::test
