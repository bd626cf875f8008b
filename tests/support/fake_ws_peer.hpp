#pragma once
// A WebSocket peer the test scripts by hand, for the faults Chromium cannot
// be made to produce on demand: an oversized or broken frame, a refused or
// unanswered handshake, garbage in place of CDP. One client, on a thread,
// on 127.0.0.1. Every test that uses it says so.

#include <functional>
#include <string>
#include <thread>

namespace belay::test {

class FakeWsPeer {
 public:
  // `script` runs after the handshake (or instead of it if `handshake` is
  // false) with the accepted socket.
  FakeWsPeer(bool handshake, std::function<void(int fd)> script);
  ~FakeWsPeer();
  FakeWsPeer(const FakeWsPeer&) = delete;
  FakeWsPeer& operator=(const FakeWsPeer&) = delete;

  std::string url() const;

  static void write_all(int fd, const std::string& bytes);
  // An unmasked text frame, as a server sends.
  static std::string text_frame(const std::string& payload);
  // Waits for the client's first frame: it is open on its side by then.
  static void await_client(int fd);
  // Reads until the client closes (or 10 s).
  static void drain(int fd);

 private:
  void serve();

  bool handshake_;
  std::function<void(int)> script_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace belay::test
