#pragma once
// CDP over --remote-debugging-pipe: belay writes to the browser's fd 3 and
// reads from its fd 4; each message ends with a NUL byte. No port is opened,
// and the browser exits by itself when belay goes away.

#include "cdp/frame_splitter.hpp"
#include "cdp/transport.hpp"
#include "core/uv_handle.hpp"

#include <uv.h>

#include <memory>
#include <string>

namespace belay::cdp {

struct PipeOptions {
  size_t max_message_bytes = 256u << 20;
  // Size of each read buffer. Tests set it to a few bytes to force every
  // message through the partial-read path.
  size_t read_chunk_bytes = 256u << 10;
};

class PipeTransport final : public Transport {
 public:
  // Takes two initialised pipes: `to_browser` is the browser's fd 3,
  // `from_browser` its fd 4.
  PipeTransport(UvHandle<uv_pipe_t> to_browser, UvHandle<uv_pipe_t> from_browser,
                PipeOptions options = {});
  ~PipeTransport() override;

  void set_sink(Sink* sink) override { sink_ = sink; }
  void send(std::string message) override;
  void close() override;
  bool is_open() const override { return open_; }
  std::string_view name() const override { return "pipe"; }

 private:
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  void deliver(std::string_view bytes);
  void write(std::string bytes);  // NUL-terminated messages
  void finish(const Error& why);

  PipeOptions options_;
  UvHandle<uv_pipe_t> to_browser_;
  UvHandle<uv_pipe_t> from_browser_;
  FrameSplitter splitter_;
  std::string read_buffer_;
  Sink* sink_ = nullptr;
  bool open_ = true;
  // While a read's messages are delivered, commands wait here for one write.
  // (Nothing runs the loop from inside a message handler, so none waits for
  // a reply to a command held here.)
  bool delivering_ = false;
  std::string held_;
  UvHandle<uv_idle_t> closer_;  // defers on_closed out of close()'s caller
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::cdp
