#pragma once
// Runs a program on a pseudo-terminal, as a user at a terminal would: the
// child's stdin, stdout and stderr are the pty's slave side, so isatty()
// holds and line editing is on. The test types with send() and reads the
// screen's byte stream with expect(). Killed by its PID (never by name) if it
// outlives the test.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace belay::test {

class PtyProcess {
 public:
  // argv[0] is the program's path. `env` is set on top of ours (TERM=xterm
  // unless given).
  PtyProcess(std::vector<std::string> argv, const std::string& cwd,
             std::vector<std::pair<std::string, std::string>> env = {});
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  pid_t pid() const { return pid_; }
  void send(std::string_view bytes);
  // The text and Enter (a carriage return, as a terminal sends it).
  void send_line(std::string_view line);
  // Waits until `needle` appears in the output after the mark (see mark());
  // on success the mark moves past it, so the next expect looks further on.
  bool expect(std::string_view needle, std::chrono::milliseconds timeout);
  // Waits until the program has put the terminal in raw mode (ICANON off),
  // as a line editor does while it waits for a key: what is typed then goes
  // to the editor, not to the tty's own line discipline.
  bool wait_raw_mode(std::chrono::milliseconds timeout);
  // Later expects look only at output from here on.
  void mark();
  // Everything the program wrote so far.
  std::string output();
  // Output since the mark (for failure messages).
  std::string recent();

  bool running();
  // True if it exited within `timeout` (it is left running otherwise).
  bool wait_for_exit(std::chrono::milliseconds timeout);
  // Waits for the exit; kills it (SIGKILL) past the deadline. Exit code, or
  // -1 if a signal ended it.
  int wait(std::chrono::milliseconds timeout);

 private:
  void pump(std::chrono::milliseconds timeout);
  void reap(int status);

  pid_t pid_ = -1;
  int master_ = -1;
  std::string output_;
  size_t mark_ = 0;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace belay::test
