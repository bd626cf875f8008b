#include "cdp/pipe_transport.hpp"

#include "cdp/classify.hpp"

#include <memory>
#include <utility>

namespace belay::cdp {
namespace {

// A write request owns its bytes until libuv is done with them; it must not
// point back at the transport, which may be gone by then.
struct WriteRequest {
  uv_write_t req;
  std::string bytes;
};

void on_written(uv_write_t* req, int /*status*/) {
  // A failed write shows up as EOF/error on the read side, which closes the
  // transport with the real reason.
  std::unique_ptr<WriteRequest> owned(reinterpret_cast<WriteRequest*>(req->data));
}

}  // namespace

PipeTransport::PipeTransport(UvHandle<uv_pipe_t> to_browser, UvHandle<uv_pipe_t> from_browser,
                             PipeOptions options)
    : options_(options),
      to_browser_(std::move(to_browser)),
      from_browser_(std::move(from_browser)),
      splitter_(options.max_message_bytes) {
  read_buffer_.resize(options_.read_chunk_bytes);
  from_browser_->data = this;
  uv_read_start(from_browser_.as_stream(), &PipeTransport::on_alloc, &PipeTransport::on_read);
}

PipeTransport::~PipeTransport() {
  sink_ = nullptr;
  open_ = false;
}

void PipeTransport::send(std::string message) {
  if (!open_) return;
  if (delivering_) {
    held_ += message;
    held_ += '\0';
    return;
  }
  message.push_back('\0');
  write(std::move(message));
}

void PipeTransport::write(std::string bytes) {
  auto request = std::make_unique<WriteRequest>();
  request->bytes = std::move(bytes);
  request->req.data = request.get();
  uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  if (uv_write(&request->req, to_browser_.as_stream(), &buf, 1, on_written) == 0) {
    request.release();  // on_written frees it
  }
}

void PipeTransport::close() {
  if (!open_) return;
  if (!held_.empty()) write(std::exchange(held_, {}));
  // on_closed must not run inside the caller's stack (it may be iterating
  // the very commands on_closed fails), so it is deferred to the loop.
  closer_ = UvHandle<uv_idle_t>();
  uv_idle_init(from_browser_->loop, closer_.get());
  closer_->data = this;
  uv_idle_start(closer_.get(), [](uv_idle_t* idle) {
    auto* self = static_cast<PipeTransport*>(idle->data);
    if (self == nullptr) return;
    uv_idle_stop(idle);
    self->finish(transport_closed("connection closed by belay"));
  });
  open_ = false;
  uv_read_stop(from_browser_.as_stream());
}

void PipeTransport::on_alloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* self = static_cast<PipeTransport*>(handle->data);
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
}

void PipeTransport::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<PipeTransport*>(stream->data);
  if (self == nullptr || nread == 0) return;
  if (nread < 0) {
    uv_read_stop(stream);
    self->open_ = false;
    self->finish(transport_closed(nread == UV_EOF ? "pipe closed by the browser"
                                                  : std::string("pipe read failed: ") +
                                                        uv_strerror(static_cast<int>(nread))));
    return;
  }
  self->deliver(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void PipeTransport::deliver(std::string_view bytes) {
  // A sink may destroy this transport from inside a callback (a test that
  // drops the browser on a reply): stop feeding the moment that happens.
  std::weak_ptr<bool> alive = alive_;
  // Commands sent while this read's messages are handed on (the next calls
  // of a pipeline, answered by the replies just read) go out in one write
  // at the end: one syscall, and one read on the browser's side, instead of
  // one each.
  delivering_ = true;
  splitter_.feed(
      bytes,
      [this, &alive](std::string_view message) {
        if (sink_ != nullptr) sink_->on_message(message);
        return !alive.expired();
      },
      [this, &alive](size_t size) {
        if (sink_ != nullptr) {
          sink_->on_transport_error(
              protocol_error("dropped an oversized CDP message of " + std::to_string(size) +
                             " bytes (limit " + std::to_string(options_.max_message_bytes) + ")"));
        }
        return !alive.expired();
      });
  if (alive.expired()) return;
  delivering_ = false;
  if (open_ && !held_.empty()) write(std::exchange(held_, {}));
}

void PipeTransport::finish(const Error& why) {
  Sink* sink = sink_;
  sink_ = nullptr;  // exactly once
  closer_.reset();
  if (sink != nullptr) sink->on_closed(why);
}

}  // namespace belay::cdp
