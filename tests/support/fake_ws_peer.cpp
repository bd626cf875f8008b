#include "support/fake_ws_peer.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <websocketpp/base64/base64.hpp>
#include <websocketpp/sha1/sha1.hpp>

namespace belay::test {

FakeWsPeer::FakeWsPeer(bool handshake, std::function<void(int fd)> script)
    : handshake_(handshake), script_(std::move(script)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listener_, 1);
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeWsPeer::~FakeWsPeer() {
  ::shutdown(listener_, SHUT_RDWR);
  thread_.join();
  ::close(listener_);
}

std::string FakeWsPeer::url() const {
  return "ws://127.0.0.1:" + std::to_string(port_) + "/devtools/browser/fake";
}

void FakeWsPeer::write_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

std::string FakeWsPeer::text_frame(const std::string& payload) {
  std::string frame = "\x81";
  if (payload.size() < 126) {
    frame += static_cast<char>(payload.size());
  } else if (payload.size() < 65536) {
    frame += static_cast<char>(126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  } else {
    frame += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      frame += static_cast<char>((payload.size() >> shift) & 0xff);
    }
  }
  return frame + payload;
}

void FakeWsPeer::await_client(int fd) {
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) > 0) ::recv(fd, buf, sizeof buf, 0);
}

void FakeWsPeer::drain(int fd) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0 || ::recv(fd, buf, sizeof buf, 0) <= 0) return;
  }
}

void FakeWsPeer::serve() {
  const int fd = ::accept(listener_, nullptr, nullptr);
  if (fd < 0) return;
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  if (handshake_) {
    const std::string header = "Sec-WebSocket-Key: ";
    const size_t at = request.find(header);
    const std::string key =
        at == std::string::npos
            ? ""
            : request.substr(at + header.size(), request.find("\r\n", at) - at - header.size());
    const std::string magic = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[20];
    websocketpp::sha1::calc(magic.data(), magic.size(), digest);
    write_all(fd,
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                  websocketpp::base64_encode(digest, sizeof digest) + "\r\n\r\n");
  }
  script_(fd);
  ::close(fd);
}

}  // namespace belay::test
