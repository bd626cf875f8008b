#include "cdp/ws_transport.hpp"

#include "cdp/classify.hpp"

#include <websocketpp/client.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/core_client.hpp>
#include <websocketpp/uri.hpp>

namespace belay::cdp {
namespace {

// core_client with no locking: everything runs on the one loop thread, and
// websocketpp's non-recursive mutexes would deadlock if a handler re-entered.
struct LoopConfig : public websocketpp::config::core_client {
  using type = LoopConfig;
  using concurrency_type = websocketpp::concurrency::none;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  struct transport_config : public core_client::transport_config {
    using concurrency_type = type::concurrency_type;
    using elog_type = type::elog_type;
    using alog_type = type::alog_type;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::iostream::endpoint<transport_config>;
};

using Client = websocketpp::client<LoopConfig>;

struct WriteRequest {
  uv_write_t req;
  std::string bytes;
};

}  // namespace

struct WsTransport::Impl {
  WsTransport* owner;
  uv_loop_t* loop;
  WsOptions options;
  Client client;
  Client::connection_ptr con;
  UvHandle<uv_tcp_t> tcp;
  UvHandle<uv_timer_t> deadline;
  UvHandle<uv_idle_t> drain;  // delivers queued messages outside websocketpp's stack
  uv_getaddrinfo_t resolver{};
  bool resolving = false;
  std::string url;
  uint64_t connect_timeout_ms = 0;
  std::string read_buffer;
  std::deque<std::string> inbox;
  std::optional<Error> closed_because;  // set once; delivered by drain
  ConnectCallback on_connect;
  bool open = false;
  bool handshake_done = false;
  bool finished = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  Impl(WsTransport* o, uv_loop_t* l, WsOptions opts) : owner(o), loop(l), options(opts) {
    client.clear_access_channels(websocketpp::log::alevel::all);
    client.clear_error_channels(websocketpp::log::elevel::all);
    client.set_max_message_size(options.max_message_bytes);
    client.set_write_handler([this](websocketpp::connection_hdl, const char* data, size_t len) {
      write_bytes(data, len);
      return std::error_code();
    });
    client.set_open_handler([this](websocketpp::connection_hdl) { on_open(); });
    client.set_fail_handler([this](websocketpp::connection_hdl) { on_fail(); });
    client.set_close_handler([this](websocketpp::connection_hdl) { on_close(); });
    client.set_message_handler([this](websocketpp::connection_hdl, Client::message_ptr msg) {
      inbox.push_back(std::move(msg->get_raw_payload()));
      schedule_drain();
    });
    read_buffer.resize(options.read_chunk_bytes);
  }

  ~Impl() {
    alive.reset();
    if (resolving) uv_cancel(reinterpret_cast<uv_req_t*>(&resolver));
    resolver.data = nullptr;
    if (con) {
      // A read websocketpp is waiting for (the handshake's answer from a
      // peer that never sent one) holds a handler bound to the connection
      // itself: end the input, with our handlers detached, or the
      // connection keeps itself alive after us.
      con->set_open_handler(nullptr);
      con->set_fail_handler(nullptr);
      con->set_close_handler(nullptr);
      con->set_message_handler(nullptr);
      con->set_write_handler(nullptr);
      con->eof();
    }
  }

  void write_bytes(const char* data, size_t len) {
    if (!tcp.initialized() || finished) return;
    auto request = std::make_unique<WriteRequest>();
    request->bytes.assign(data, len);
    request->req.data = request.get();
    uv_buf_t buf = uv_buf_init(request->bytes.data(), static_cast<unsigned>(len));
    const int rc = uv_write(&request->req, tcp.as_stream(), &buf, 1, [](uv_write_t* req, int) {
      std::unique_ptr<WriteRequest> owned(static_cast<WriteRequest*>(req->data));
    });
    if (rc == 0) request.release();
  }

  void schedule_drain() {
    if (!drain.initialized()) {
      drain = UvHandle<uv_idle_t>();
      uv_idle_init(loop, drain.get());
    }
    drain->data = this;
    uv_idle_start(drain.get(), [](uv_idle_t* idle) {
      if (idle->data != nullptr) static_cast<Impl*>(idle->data)->deliver();
    });
  }

  // Runs from the loop, never from inside websocketpp, so a sink may do
  // anything, including destroying this transport.
  void deliver() {
    uv_idle_stop(drain.get());
    std::weak_ptr<bool> guard = alive;
    // The connect callback first: it installs the sink, and frames that came
    // with the handshake's answer are already in the inbox. A handshake that
    // succeeded is a connect that succeeded, even if the close came with it.
    if (on_connect && (handshake_done || closed_because)) {
      ConnectCallback cb = std::move(on_connect);
      on_connect = nullptr;
      cb(handshake_done ? std::nullopt : closed_because);
      if (guard.expired()) return;
    }
    while (!inbox.empty()) {
      std::string message = std::move(inbox.front());
      inbox.pop_front();
      if (owner->sink_ != nullptr) owner->sink_->on_message(message);
      if (guard.expired()) return;
    }
    if (closed_because && !finished) {
      finished = true;
      Sink* sink = owner->sink_;
      owner->sink_ = nullptr;
      if (sink != nullptr) sink->on_closed(*closed_because);
    }
  }

  void fail(Error why) {
    if (closed_because) return;
    closed_because = std::move(why);
    open = false;
    deadline.reset();
    if (tcp.initialized()) uv_read_stop(tcp.as_stream());
    schedule_drain();
  }

  void on_open() {
    open = true;
    handshake_done = true;
    deadline.reset();
    schedule_drain();
  }

  void on_close() {
    const auto local = con->get_local_close_code();
    if (local == websocketpp::close::status::message_too_big) {
      // websocketpp has already refused the frame; say so before the
      // connection goes. The whole messages before it are still delivered
      // (a reply among them completes its command).
      fail(transport_closed("a CDP message exceeded the " +
                            std::to_string(options.max_message_bytes) + "-byte limit"));
      return;
    }
    fail(transport_closed("websocket closed by the browser (code " +
                          std::to_string(con->get_remote_close_code()) + ")"));
  }

  void on_fail() {
    std::string reason = "websocket handshake with " + url + " failed";
    if (con) {
      reason += ": " + con->get_ec().message();
      if (con->get_response_code() != 0) {
        reason += " (HTTP " + std::to_string(static_cast<int>(con->get_response_code())) + ")";
      }
    }
    fail(transport_closed(reason));
  }

  void start(const std::string& target, uint64_t timeout_ms) {
    url = target;
    connect_timeout_ms = timeout_ms;
    std::error_code ec;
    auto uri = std::make_shared<websocketpp::uri>(target);
    if (!uri->get_valid() || uri->get_scheme() != "ws") {
      fail(Error{Kind::config, "not a ws:// URL: " + target, "connect", {}});
      return;
    }
    deadline = UvHandle<uv_timer_t>();
    uv_timer_init(loop, deadline.get());
    deadline->data = this;
    uv_timer_start(
        deadline.get(),
        [](uv_timer_t* t) {
          auto* self = static_cast<Impl*>(t->data);
          if (self != nullptr)
            self->fail(
                deadline_passed("websocket connect to " + self->url, self->connect_timeout_ms));
        },
        timeout_ms, 0);
    resolver.data = this;
    resolving = true;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    const int rc = uv_getaddrinfo(loop, &resolver, &Impl::on_resolved, uri->get_host().c_str(),
                                  uri->get_port_str().c_str(), &hints);
    if (rc != 0) {
      resolving = false;
      fail(transport_closed(std::string("cannot resolve ") + uri->get_host() + ": " +
                            uv_strerror(rc)));
    }
  }

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    auto* self = static_cast<Impl*>(req->data);
    if (self == nullptr) {
      uv_freeaddrinfo(res);
      return;
    }
    self->resolving = false;
    if (status != 0 || res == nullptr) {
      uv_freeaddrinfo(res);
      self->fail(transport_closed("cannot resolve " + self->url + ": " + uv_strerror(status)));
      return;
    }
    self->tcp = UvHandle<uv_tcp_t>();
    uv_tcp_init(self->loop, self->tcp.get());
    uv_tcp_nodelay(self->tcp.get(), 1);
    self->tcp->data = self;
    auto connect = std::make_unique<uv_connect_t>();
    connect->data = self->tcp.get();
    const int rc =
        uv_tcp_connect(connect.get(), self->tcp.get(), res->ai_addr, &Impl::on_connected);
    uv_freeaddrinfo(res);
    if (rc == 0) {
      connect.release();
    } else {
      self->fail(transport_closed("cannot connect to " + self->url + ": " + uv_strerror(rc)));
    }
  }

  static void on_connected(uv_connect_t* req, int status) {
    std::unique_ptr<uv_connect_t> owned(req);
    auto* tcp = static_cast<uv_tcp_t*>(req->data);
    auto* self = static_cast<Impl*>(tcp->data);
    if (self == nullptr || status == UV_ECANCELED) return;
    if (status != 0) {
      self->fail(transport_closed("cannot connect to " + self->url + ": " + uv_strerror(status)));
      return;
    }
    std::error_code ec;
    self->con = self->client.get_connection(self->url, ec);
    if (ec) {
      self->fail(transport_closed("bad websocket URL " + self->url + ": " + ec.message()));
      return;
    }
    uv_read_start(self->tcp.as_stream(), &Impl::on_alloc, &Impl::on_read);
    self->client.connect(self->con);
  }

  static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* self = static_cast<Impl*>(handle->data);
    if (self == nullptr) {
      *buf = uv_buf_init(nullptr, 0);
      return;
    }
    *buf = uv_buf_init(self->read_buffer.data(), static_cast<unsigned>(self->read_buffer.size()));
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<Impl*>(stream->data);
    if (self == nullptr || nread == 0) return;
    if (nread < 0) {
      if (self->con) self->con->eof();
      self->fail(transport_closed(nread == UV_EOF ? "websocket closed by the browser"
                                                  : std::string("websocket read failed: ") +
                                                        uv_strerror(static_cast<int>(nread))));
      return;
    }
    self->feed(buf->base, static_cast<size_t>(nread));
  }

  void feed(const char* data, size_t len) {
    Client::connection_ptr keep = con;  // handlers must not free it mid-read
    size_t offset = 0;
    while (offset < len && !closed_because) {
      const size_t used = keep->read_some(data + offset, len - offset);
      if (used == 0) break;
      offset += used;
    }
    if (offset < len && !closed_because) {
      fail(Error{Kind::protocol,
                 "websocket stopped accepting input: " + keep->get_ec().message(),
                 "",
                 {}});
    }
  }
};

WsTransport::WsTransport(uv_loop_t* loop, WsOptions options)
    : impl_(std::make_unique<Impl>(this, loop, options)) {}

WsTransport::~WsTransport() { sink_ = nullptr; }

void WsTransport::connect(const std::string& url, uint64_t timeout_ms, ConnectCallback done) {
  impl_->on_connect = std::move(done);
  impl_->start(url, timeout_ms);
}

void WsTransport::send(std::string message) {
  if (!impl_->open || !impl_->con) return;
  impl_->con->send(message, websocketpp::frame::opcode::text);
}

void WsTransport::close() {
  if (impl_->closed_because) return;
  if (impl_->open && impl_->con) {
    std::error_code ec;
    impl_->con->close(websocketpp::close::status::going_away, "", ec);
  }
  impl_->fail(transport_closed("connection closed by belay"));
}

bool WsTransport::is_open() const { return impl_->open; }

}  // namespace belay::cdp
