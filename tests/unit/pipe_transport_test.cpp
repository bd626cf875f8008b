// PipeTransport over a socketpair standing in for the browser's fd 3 and
// fd 4 (a fake peer: the test needs to see the exact bytes written, and
// when). Commands sent while a read's messages are handed on are held and
// written together after the last one; none is lost or reordered, and one
// sent outside a read goes out at once.

#include "cdp/pipe_transport.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace belay::cdp {
namespace {

class AnsweringSink final : public Transport::Sink {
 public:
  void on_message(std::string_view message) override {
    seen.emplace_back(message);
    if (transport == nullptr) return;
    transport->send("re:" + std::string(message));
    if (message == "close") transport->close();
  }
  void on_transport_error(const Error&) override {}
  void on_closed(const Error&) override { closed = true; }
  Transport* transport = nullptr;
  std::vector<std::string> seen;
  bool closed = false;
};

class PipeTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, from_browser_), 0);
    // Packets, so that the test sees each of belay's writes on its own.
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, to_browser_), 0);
    uv_loop_init(&loop_);
    transport_ =
        std::make_unique<PipeTransport>(open_pipe(to_browser_[0]), open_pipe(from_browser_[0]));
    transport_->set_sink(&sink_);
    sink_.transport = transport_.get();
  }
  void TearDown() override {
    transport_.reset();
    ::close(from_browser_[1]);
    ::close(to_browser_[1]);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  UvHandle<uv_pipe_t> open_pipe(int fd) {
    UvHandle<uv_pipe_t> pipe;
    uv_pipe_init(&loop_, pipe.get(), 0);
    EXPECT_EQ(uv_pipe_open(pipe.get(), fd), 0);
    return pipe;
  }
  // What the browser would write, in one write().
  void browser_writes(const std::string& bytes) {
    ASSERT_EQ(::write(from_browser_[1], bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  // Turns the loop until `n` messages arrived.
  void deliver(size_t n) {
    while (sink_.seen.size() < n && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    ASSERT_EQ(sink_.seen.size(), n);
  }
  // Everything belay has written to the browser so far, and in how many
  // writes.
  std::string browser_reads(int* reads = nullptr) {
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = ::read(to_browser_[1], buf, sizeof buf)) > 0;) {
      all.append(buf, static_cast<size_t>(n));
      if (reads != nullptr) ++*reads;
    }
    return all;
  }

  int from_browser_[2] = {-1, -1};
  int to_browser_[2] = {-1, -1};
  uv_loop_t loop_{};
  AnsweringSink sink_;
  std::unique_ptr<PipeTransport> transport_;
};

TEST_F(PipeTransportTest, CommandsSentWhileARepliesReadIsDeliveredGoOutTogetherInOrder) {
  browser_writes(std::string("a\0b\0c\0", 6));
  deliver(3);
  int writes = 0;
  EXPECT_EQ(browser_reads(&writes), std::string("re:a\0re:b\0re:c\0", 15));
  EXPECT_EQ(writes, 1);
}

TEST_F(PipeTransportTest, ACommandSentOutsideAReadGoesOutAtOnce) {
  transport_->send("first");
  transport_->send("second");
  int writes = 0;
  EXPECT_EQ(browser_reads(&writes), std::string("first\0second\0", 13)) << "written within send()";
  EXPECT_EQ(writes, 2);
  browser_writes(std::string("x\0", 2));
  deliver(1);
  transport_->send("after");
  EXPECT_EQ(browser_reads(), std::string("re:x\0after\0", 11));
}

TEST_F(PipeTransportTest, CommandsHeldWhenAHandlerClosesTheTransportAreStillWritten) {
  browser_writes(std::string("a\0close\0b\0", 10));
  while (!sink_.closed && uv_run(&loop_, UV_RUN_ONCE) != 0) {
  }
  EXPECT_EQ(browser_reads(), std::string("re:a\0re:close\0", 14)) << "and nothing once closed";
}

}  // namespace
}  // namespace belay::cdp
