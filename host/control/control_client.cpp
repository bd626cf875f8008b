#include "control/control_client.hpp"

#include "core/json_text.hpp"

#include <cerrno>

namespace belay::control {

struct ControlClient::State {
  uv_loop_t* loop = nullptr;
  uv_pipe_t pipe{};
  uv_connect_t connect_req{};
  bool open = false;
  bool connected = false;
  std::optional<int> connect_status;
  LineBuffer lines;
  OnMessage handler;
  std::optional<nlohmann::json> first;  // the hello, or a refusal
};

namespace {

using State = ControlClient::State;

struct WriteRequest {
  uv_write_t req{};
  std::string data;
};

Error connect_error(const std::string& path, int status) {
  std::string why;
  switch (status) {
    case UV_ENOENT:
      why = "no belay run serves this state directory (no " + path + ")";
      break;
    case UV_EACCES:
    case UV_EPERM:
      why = "permission denied: the run at " + path + " belongs to another user";
      break;
    case UV_ECONNREFUSED:
      why = path + " is left from a run that is gone";
      break;
    default:
      why = "cannot connect to " + path + ": " + uv_strerror(status);
  }
  return Error{Kind::config, why, "attach", {}};
}

void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* state = static_cast<State*>(stream->data);
  std::unique_ptr<char[]> owned(buf->base);
  if (nread < 0) {
    state->connected = false;
    uv_read_stop(stream);
    return;
  }
  for (const std::string& line : state->lines.feed(std::string_view(buf->base, nread))) {
    nlohmann::json message = parse_json_or_discard(line);
    if (message.is_discarded() || !message.is_object()) continue;  // not ours to crash on
    if (!state->first) {
      state->first = message;
      continue;
    }
    if (state->handler) state->handler(message);
  }
}

}  // namespace

ControlClient::ControlClient(uv_loop_t* loop) : state_(std::make_shared<State>()) {
  state_->loop = loop;
}

ControlClient::~ControlClient() {
  if (!state_->open) return;
  auto* keep = new std::shared_ptr<State>(state_);  // until the close callback
  state_->pipe.data = keep;
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->pipe),
           [](uv_handle_t* handle) { delete static_cast<std::shared_ptr<State>*>(handle->data); });
}

std::optional<Error> ControlClient::connect(const std::string& path, uint64_t timeout_ms) {
  uv_pipe_init(state_->loop, &state_->pipe, 0);
  state_->open = true;
  state_->pipe.data = state_.get();
  state_->connect_req.data = state_.get();
  uv_pipe_connect(&state_->connect_req, &state_->pipe, path.c_str(),
                  [](uv_connect_t* req, int status) {
                    static_cast<State*>(req->data)->connect_status = status;
                  });
  while (!state_->connect_status) uv_run(state_->loop, UV_RUN_ONCE);
  if (*state_->connect_status != 0) return connect_error(path, *state_->connect_status);
  state_->connected = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&state_->pipe),
      [](uv_handle_t*, size_t size, uv_buf_t* buf) {
        buf->base = new char[size];
        buf->len = size;
      },
      on_read);
  // The host speaks first: a hello, or why it refuses this client.
  uv_timer_t timer;
  uv_timer_init(state_->loop, &timer);
  bool timed_out = false;
  timer.data = &timed_out;
  uv_timer_start(
      &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, timeout_ms, 0);
  while (!state_->first && state_->connected && !timed_out) uv_run(state_->loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(state_->loop, UV_RUN_NOWAIT);
  if (state_->first && state_->first->contains("hello")) return std::nullopt;
  state_->connected = false;
  std::string refusal;  // a string, or nothing: the other end may be no belay
  if (state_->first) {
    auto error = state_->first->find("error");
    if (error != state_->first->end() && error->is_string()) refusal = error->get<std::string>();
  }
  if (!refusal.empty()) {
    return Error{Kind::config, "the run refused this console: " + refusal, "attach", {}};
  }
  return Error{
      Kind::config,
      timed_out ? "the run at " + path + " did not answer" : "the run closed the connection",
      "attach",
      {}};
}

void ControlClient::on_message(OnMessage handler) { state_->handler = std::move(handler); }

bool ControlClient::connected() const { return state_->connected; }

void ControlClient::send(const Request& request) {
  if (!state_->connected) return;
  auto* write = new WriteRequest;  // owned by the request until its callback
  write->data = encode_request(request);
  uv_buf_t buf = uv_buf_init(write->data.data(), static_cast<unsigned>(write->data.size()));
  write->req.data = write;
  if (uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&state_->pipe), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); }) != 0) {
    delete write;
  }
}

}  // namespace belay::control
