// WebSocket frames fed to WsTransport. The transport only speaks through a
// real socket (libuv owns it), so a WebSocket "server" on 127.0.0.1 inside
// this process answers its handshake and then writes the fuzzed bytes and
// closes its side. Two modes:
//
//  - raw: the bytes after a valid handshake answer (or, with bit 1, the
//    whole answer, HTTP included) are the input as is. Checks the contract
//    of Transport::Sink: connect completes once; after a successful connect
//    (which installs the sink, as Browser::connect does) on_closed comes
//    exactly once and last; no message is over the size limit.
//  - frames: the input describes frames (text, binary, fragmented text with
//    pings between the fragments, ping, pong, close) that this file encodes
//    correctly; the messages delivered must then be exactly the data
//    messages sent, in order.
//
// Input: [mode byte] rest. Mode bits: 0 frames, 1 raw handshake, 2-4 read
// chunk size, 5 echo every message back, 6 close after the first message,
// 7 a 100-byte message limit (raw mode).

#include "cdp/ws_transport.hpp"
#include "fuzz_targets.hpp"

#include <sys/socket.h>
#include <websocketpp/base64/base64.hpp>
#include <websocketpp/sha1/sha1.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace belay::fuzz {
namespace {

constexpr size_t kReadChunks[] = {1, 2, 3, 7, 64, 1024, 4096, 256u << 10};

// The server side of one connection; freed by its close callback.
struct Peer {
  uv_tcp_t tcp{};
  std::string request;
  bool responded = false;
};

template <typename Req>
struct WithBytes {
  Req req{};
  std::string bytes;
};

// One listening socket for the whole process (a fresh port per input would
// use up the port range), on a loop every input runs.
struct Server {
  uv_loop_t loop{};
  uv_tcp_t listener{};
  int port = 0;
  Peer* peer = nullptr;  // this input's connection
  std::string answer;    // what follows the 101 response (raw: the whole answer)
  bool raw_handshake = false;

  Server() {
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &listener);
    listener.data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    FUZZ_CHECK(uv_tcp_bind(&listener, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
    FUZZ_CHECK(uv_listen(reinterpret_cast<uv_stream_t*>(&listener), 16, &Server::on_connection) ==
               0);
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&listener, reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    uv_unref(reinterpret_cast<uv_handle_t*>(&listener));  // uv_run returns when an input is done
  }

  static void on_connection(uv_stream_t* listener, int status) {
    auto* self = static_cast<Server*>(listener->data);
    if (status != 0) return;
    auto* peer = new Peer;
    uv_tcp_init(&self->loop, &peer->tcp);
    peer->tcp.data = peer;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&peer->tcp)) != 0 ||
        self->peer != nullptr) {
      close_peer(peer);
      return;
    }
    self->peer = peer;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&peer->tcp),
        [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
          *buf = uv_buf_init(new char[suggested], static_cast<unsigned>(suggested));
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
          std::unique_ptr<char[]> owned(buf->base);
          auto* p = static_cast<Peer*>(stream->data);
          if (nread <= 0 || p->responded) return;
          p->request.append(buf->base, static_cast<size_t>(nread));
          if (p->request.find("\r\n\r\n") != std::string::npos) server().respond(p);
        });
  }

  static std::string accept_key(const std::string& request) {
    const std::string field = "Sec-WebSocket-Key: ";
    const size_t at = request.find(field);
    if (at == std::string::npos) return {};
    const size_t start = at + field.size();
    std::string key = request.substr(start, request.find("\r\n", start) - start);
    key += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char hash[20];
    websocketpp::sha1::calc(key.data(), key.size(), hash);
    return websocketpp::base64_encode(hash, sizeof hash);
  }

  void respond(Peer* p) {
    p->responded = true;
    auto write = std::make_unique<WithBytes<uv_write_t>>();
    if (!raw_handshake) {
      write->bytes =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
          accept_key(p->request) + "\r\n\r\n";
    }
    write->bytes += answer;
    write->req.data = write.get();
    uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    auto* stream = reinterpret_cast<uv_stream_t*>(&p->tcp);
    if (uv_write(&write->req, stream, &buf, 1, [](uv_write_t* req, int) {
          std::unique_ptr<WithBytes<uv_write_t>> owned(
              static_cast<WithBytes<uv_write_t>*>(req->data));
        }) == 0) {
      write.release();
    }
    auto shutdown = std::make_unique<uv_shutdown_t>();
    if (uv_shutdown(shutdown.get(), stream, [](uv_shutdown_t* req, int) {
          std::unique_ptr<uv_shutdown_t> owned(req);
        }) == 0) {
      shutdown.release();
    }
  }

  // Ends a connection with a reset, so no TIME_WAIT socket is left behind.
  static void close_peer(Peer* p) {
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&p->tcp), &fd) == 0) {
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&p->tcp),
             [](uv_handle_t* h) { delete static_cast<Peer*>(h->data); });
  }

  static Server& server() {
    static Server* instance = new Server;  // lives as long as the process
    return *instance;
  }
};

struct Sink final : cdp::Transport::Sink {
  void on_message(std::string_view message) override {
    FUZZ_CHECK(closed == 0 && connected == 1 && !connect_error);
    FUZZ_CHECK(message.size() <= limit);
    messages.emplace_back(message);
    if (echo) transport->send(std::string(message));
    if (close_after_first) transport->close();
  }
  void on_transport_error(const Error& error) override {
    FUZZ_CHECK(closed == 0);
    FUZZ_CHECK(!error.message.empty());
  }
  void on_closed(const Error& why) override {
    FUZZ_CHECK(!why.message.empty());
    ++closed;
  }

  cdp::WsTransport* transport = nullptr;
  size_t limit = 0;
  bool echo = false;
  bool close_after_first = false;
  std::vector<std::string> messages;
  int connected = 0;
  bool connect_error = false;
  std::string why;  // the connect error
  int closed = 0;
};

// A frame as the server sends it: never masked.
std::string frame(int opcode, bool fin, std::string_view payload) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  const size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(126);
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  return out.append(payload);
}

// Frames mode: encodes the frames the input describes into `wire` and
// returns the messages they carry. Each frame is [kind][length] payload;
// kind bits 0-2: text, binary, fragmented text, ping, pong, close (mod 6);
// bits 3-4: fragments - 1; bit 6: a ping between fragments; bit 7: length
// x 300 (16- and 64-bit length fields).
std::vector<std::string> encode_frames(InputReader& in, size_t read_chunk, std::string* wire) {
  std::vector<std::string> messages;
  while (!in.empty()) {
    const uint8_t k = in.byte();
    size_t len = in.byte();
    if ((k & 0x80) != 0 && read_chunk >= 64) len *= 300;  // 16- and 64-bit lengths
    std::string payload(in.bytes(len));
    payload.resize(len, 'p');
    const int type = (k & 7) % 6;
    if (type == 0 || type == 2) {
      for (char& c : payload) c = static_cast<char>(0x20 + (c & 0x3F));  // valid UTF-8
    }
    if (type == 0) {
      *wire += frame(0x1, true, payload);
    } else if (type == 1) {
      *wire += frame(0x2, true, payload);
    } else if (type == 2) {
      const size_t pieces = 1 + ((k >> 3) & 3);
      const size_t step = payload.size() / pieces + 1;
      for (size_t i = 0, at = 0; i < pieces; ++i, at += step) {
        const bool last = i + 1 == pieces;
        *wire += frame(i == 0 ? 0x1 : 0x0, last,
                       std::string_view(payload).substr(std::min(at, payload.size()),
                                                        last ? std::string::npos : step));
        if (!last && (k & 0x40) != 0) *wire += frame(0x9, true, "between");
      }
    } else if (type == 3 || type == 4) {
      *wire += frame(type == 3 ? 0x9 : 0xA, true, payload.substr(0, 125));
      continue;
    } else {
      *wire += frame(0x8, true, std::string("\x03\xE8", 2) + payload.substr(0, 20));
      break;
    }
    messages.push_back(std::move(payload));
  }
  return messages;
}

}  // namespace

int fuzz_ws_frames(const uint8_t* data, size_t size) {
  Server& server = Server::server();
  InputReader in(data, size);
  const uint8_t mode = in.byte();
  const bool frames = (mode & 1) != 0;
  cdp::WsOptions options;
  options.read_chunk_bytes = kReadChunks[(mode >> 2) & 7];
  if (!frames && (mode & 0x80) != 0) options.max_message_bytes = 100;
  std::optional<std::vector<std::string>> expected;
  server.answer.clear();
  server.raw_handshake = !frames && (mode & 2) != 0;
  if (frames) {
    expected = encode_frames(in, options.read_chunk_bytes, &server.answer);
  } else {
    server.answer = std::string(in.rest());
  }

  Sink sink;
  sink.limit = options.max_message_bytes;
  sink.echo = (mode & 0x20) != 0;
  sink.close_after_first = (mode & 0x40) != 0;
  {
    auto transport = std::make_unique<cdp::WsTransport>(&server.loop, options);
    sink.transport = transport.get();
    // As Browser::connect does: the sink (a Connection) comes with success.
    transport->connect("ws://127.0.0.1:" + std::to_string(server.port) + "/devtools/browser/fuzz",
                       10000, [&](std::optional<Error> error) {
                         FUZZ_CHECK(++sink.connected == 1 && sink.closed == 0);
                         sink.connect_error = error.has_value();
                         if (error) {
                           sink.why = error->message;
                         } else {
                           sink.transport->set_sink(&sink);
                         }
                       });
    while ((sink.connected == 0 || (!sink.connect_error && sink.closed == 0)) &&
           uv_run(&server.loop, UV_RUN_ONCE) != 0) {
    }
    FUZZ_CHECK(sink.connected == 1 && sink.closed == (sink.connect_error ? 0 : 1));
    FUZZ_CHECK(!transport->is_open());
    transport->send("after close");  // dropped
    if (server.peer != nullptr) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&server.peer->tcp));
      Server::close_peer(server.peer);
      server.peer = nullptr;
    }
  }
  uv_run(&server.loop, UV_RUN_DEFAULT);
  if (expected) {
    FUZZ_CHECK_MSG(!sink.connect_error, sink.why);
    std::vector<std::string>& want = *expected;
    if (sink.close_after_first) want.resize(std::min<size_t>(want.size(), sink.messages.size()));
    FUZZ_CHECK_MSG(sink.messages == want, std::to_string(sink.messages.size()) + " messages, " +
                                              std::to_string(want.size()) + " sent");
  }
  return 0;
}

}  // namespace belay::fuzz
