// Pipe framing: the NUL-delimited byte stream Chrome writes on fd 4, cut
// into arbitrary reads. Checks FrameSplitter against a model (every frame
// between NULs is a message, or one oversized report if past the limit,
// in order; what follows the last NUL stays buffered), then sends the same
// stream through a real PipeTransport over a socketpair with tiny reads.
//
// Input: [limit/stop byte][piece byte] stream...

#include "cdp/frame_splitter.hpp"
#include "cdp/pipe_transport.hpp"
#include "fuzz_targets.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace belay::fuzz {
namespace {

constexpr size_t kLimits[] = {1, 2, 7, 64, 300, 4096, 1 << 20, 256u << 20};
constexpr size_t kReadChunks[] = {1, 2, 3, 5, 16, 4096};

struct Event {
  bool oversized;
  std::string message;  // a message
  size_t size;          // an oversized frame's size
  bool operator==(const Event& o) const {
    return oversized == o.oversized && message == o.message && size == o.size;
  }
};

std::vector<Event> model(std::string_view stream, size_t limit, size_t* remainder) {
  std::vector<Event> out;
  size_t start = 0;
  for (size_t nul = stream.find('\0'); nul != std::string_view::npos;
       nul = stream.find('\0', start)) {
    const std::string_view frame = stream.substr(start, nul - start);
    if (frame.size() > limit) {
      out.push_back({true, {}, frame.size()});
    } else {
      out.push_back({false, std::string(frame), 0});
    }
    start = nul + 1;
  }
  *remainder = stream.size() - start;
  return out;
}

// Feeds `stream` in pieces; stops when a callback returns false at the
// `stop_at`-th event (1-based; 0: never).
void check_splitter(std::string_view stream, size_t limit, uint8_t piece_seed, size_t stop_at) {
  size_t remainder = 0;
  const std::vector<Event> expected = model(stream, limit, &remainder);
  cdp::FrameSplitter splitter(limit);
  std::vector<Event> seen;
  bool stopped = false;
  uint32_t lcg = piece_seed;
  for (size_t pos = 0; pos < stream.size() && !stopped;) {
    lcg = lcg * 1103515245u + 12345u;
    const size_t piece = piece_seed == 0 ? stream.size() : 1 + (lcg >> 16) % piece_seed;
    const std::string_view bytes = stream.substr(pos, piece);
    pos += bytes.size();
    const bool went_on = splitter.feed(
        bytes,
        [&](std::string_view m) {
          FUZZ_CHECK(!stopped);
          seen.push_back({false, std::string(m), 0});
          stopped = seen.size() == stop_at;
          return !stopped;
        },
        [&](size_t n) {
          FUZZ_CHECK(!stopped);
          seen.push_back({true, {}, n});
          stopped = seen.size() == stop_at;
          return !stopped;
        });
    FUZZ_CHECK(went_on == !stopped);
  }
  if (stopped) {
    FUZZ_CHECK(seen.size() == stop_at && stop_at <= expected.size());
    FUZZ_CHECK(std::equal(seen.begin(), seen.end(), expected.begin()));
    return;
  }
  FUZZ_CHECK(seen == expected);
  FUZZ_CHECK(splitter.buffered() == (remainder > limit ? 0 : remainder));
}

class RecordingSink final : public cdp::Transport::Sink {
 public:
  void on_message(std::string_view message) override {
    FUZZ_CHECK(closed == 0);
    events.push_back({false, std::string(message), 0});
    if (transport != nullptr && events.size() % 3 == 1) transport->send(R"({"id":1})");
  }
  void on_transport_error(const Error& error) override {
    FUZZ_CHECK(closed == 0);
    FUZZ_CHECK(error.kind == Kind::protocol);
    events.push_back({true, {}, 0});
  }
  void on_closed(const Error& why) override {
    FUZZ_CHECK(why.kind == Kind::browser_disconnected);
    ++closed;
  }
  cdp::Transport* transport = nullptr;
  std::vector<Event> events;
  int closed = 0;
};

UvHandle<uv_pipe_t> open_pipe(uv_loop_t* loop, int fd) {
  UvHandle<uv_pipe_t> pipe;
  uv_pipe_init(loop, pipe.get(), 0);
  FUZZ_CHECK(uv_pipe_open(pipe.get(), fd) == 0);
  return pipe;
}

// The same stream through PipeTransport: what the browser writes, then EOF.
void check_transport(std::string_view stream, size_t limit, size_t read_chunk) {
  size_t remainder = 0;
  std::vector<Event> expected = model(stream, limit, &remainder);
  for (Event& e : expected) e.size = 0;  // the transport reports no size field
  int from_browser[2];
  int to_browser[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, from_browser) == 0);
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, to_browser) == 0);
  for (size_t written = 0; written < stream.size();) {
    const ssize_t n = write(from_browser[1], stream.data() + written, stream.size() - written);
    FUZZ_CHECK(n > 0);
    written += static_cast<size_t>(n);
  }
  close(from_browser[1]);
  uv_loop_t loop;
  uv_loop_init(&loop);
  RecordingSink sink;
  {
    cdp::PipeOptions options;
    options.max_message_bytes = limit;
    options.read_chunk_bytes = read_chunk;
    auto transport = std::make_unique<cdp::PipeTransport>(
        open_pipe(&loop, to_browser[0]), open_pipe(&loop, from_browser[0]), options);
    transport->set_sink(&sink);
    sink.transport = transport.get();
    while (sink.closed == 0 && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
    FUZZ_CHECK(sink.closed == 1);
    FUZZ_CHECK(!transport->is_open());
    transport->send("after close");  // dropped silently
  }
  close(to_browser[1]);
  uv_run(&loop, UV_RUN_DEFAULT);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  FUZZ_CHECK(sink.events == expected);
}

}  // namespace

int fuzz_pipe_framing(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const uint8_t mode = in.byte();
  const uint8_t piece_seed = in.byte();
  const std::string_view stream = in.rest();
  const size_t limit = kLimits[mode & 7];
  const size_t stop_at = mode >> 3;
  check_splitter(stream, limit, piece_seed, stop_at);
  if (stop_at == 0 && stream.size() <= 64 * 1024) {
    check_transport(stream, limit, kReadChunks[piece_seed % 6]);
  }
  return 0;
}

}  // namespace belay::fuzz
