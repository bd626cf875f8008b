#include "control/control_server.hpp"

#include "control/line_buffer.hpp"
#include "control/peer_credentials.hpp"
#include "control/protocol.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <list>
#include <vector>

namespace belay::control {

struct Client {
  uv_pipe_t pipe{};
  ControlServer::State* server = nullptr;
  LineBuffer lines;
  std::unique_ptr<ControlSession> session;
  bool closing = false;
};

struct ControlServer::State {
  uv_loop_t* loop = nullptr;
  SessionFactory factory;
  uv_pipe_t listener{};
  bool listening = false;
  std::string path;
  ino_t inode = 0;             // of the socket file this server made
  std::list<Client*> clients;  // each deleted by its handle's close callback
};

namespace {

using State = ControlServer::State;

struct WriteRequest {
  uv_write_t req{};
  std::string data;
};

void send(Client* client, const nlohmann::json& message) {
  if (client->closing) return;
  auto* write = new WriteRequest;  // owned by the request until its callback
  write->data = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  uv_buf_t buf = uv_buf_init(write->data.data(), static_cast<unsigned>(write->data.size()));
  write->req.data = write;
  const int rc =
      uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&client->pipe), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<WriteRequest*>(req->data); });
  if (rc != 0) delete write;
}

// The client goes: its session (and any chunk it runs) ends now, its handle
// when libuv is done with it.
void drop(Client* client) {
  if (client->closing) return;
  client->closing = true;
  client->session.reset();
  client->server->clients.remove(client);
  // The callback touches only the client: the server may be gone by then.
  uv_close(reinterpret_cast<uv_handle_t*>(&client->pipe),
           [](uv_handle_t* handle) { delete static_cast<Client*>(handle->data); });
}

void handle_request(Client* client, const Request& request) {
  ControlSession& session = *client->session;
  switch (request.op) {
    case Op::cancel:
      session.cancel();
      return;
    case Op::complete:
      send(client, candidates_reply(request.id, session.complete(request.text)));
      return;
    case Op::eval:
      if (session.busy()) {
        send(client, error_reply(request.id, "script: the console is still running a chunk"));
        return;
      }
      session.eval(request.text, [client, id = request.id](bool ok, std::string text) {
        send(client, ok ? value_reply(id, text) : error_reply(id, text));
      });
      return;
  }
}

void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* client = static_cast<Client*>(stream->data);
  std::unique_ptr<char[]> owned(buf->base);
  if (nread < 0) return drop(client);
  for (const std::string& line : client->lines.feed(std::string_view(buf->base, nread))) {
    if (client->closing) return;
    if (line.empty()) continue;
    Result<Request> request = parse_request(line);
    if (!request) {
      send(client, error_reply(nullptr, request.error().to_string()));
      continue;
    }
    handle_request(client, request.value());
  }
  if (client->lines.overflowed()) {
    send(client, error_reply(nullptr, "protocol: a control message is longer than 1 MiB"));
    drop(client);
  }
}

void accept_client(State* state) {
  auto* c = new Client;  // deleted by its close callback (see drop)
  c->server = state;
  uv_pipe_init(state->loop, &c->pipe, 0);
  c->pipe.data = c;
  state->clients.push_back(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&state->listener),
                reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    return drop(c);
  }
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &fd);
  const std::optional<uid_t> uid = peer_uid(fd);
  if (!uid || *uid != geteuid()) {
    send(c, error_reply(nullptr, "config: this host serves only its own user"));
    return drop(c);
  }
  c->session = state->factory([c](std::string_view line) { send(c, print_message(line)); });
  if (!c->session) {
    send(c, error_reply(nullptr, "sandbox: the host cannot start a console now"));
    return drop(c);
  }
  send(c, hello_message());
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->pipe),
      [](uv_handle_t*, size_t size, uv_buf_t* buf) {
        buf->base = new char[size];
        buf->len = size;
      },
      on_read);
}

// True if a live host answers at `path`.
bool somebody_listens(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

}  // namespace

ControlServer::ControlServer(uv_loop_t* loop, SessionFactory factory)
    : state_(std::make_shared<State>()) {
  state_->loop = loop;
  state_->factory = std::move(factory);
}

ControlServer::~ControlServer() {
  const std::list<Client*> clients = state_->clients;
  for (Client* c : clients) drop(c);
  if (state_->listening) {
    // Only our own socket file: a later run may have replaced it.
    struct stat st {};
    if (::stat(state_->path.c_str(), &st) == 0 && st.st_ino == state_->inode) {
      ::unlink(state_->path.c_str());
    }
    // The state lives until the listener's close callback has run.
    auto* keep = new std::shared_ptr<State>(state_);
    state_->listener.data = keep;
    uv_close(reinterpret_cast<uv_handle_t*>(&state_->listener), [](uv_handle_t* handle) {
      delete static_cast<std::shared_ptr<State>*>(handle->data);
    });
  }
}

size_t ControlServer::clients() const { return state_->clients.size(); }

std::optional<Error> ControlServer::listen(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Error{Kind::config, "control socket path too long: " + path, "control", {}};
  }
  if (::access(path.c_str(), F_OK) == 0) {
    if (somebody_listens(path)) {
      return Error{Kind::config, "another belay serves " + path, "control", {}};
    }
    ::unlink(path.c_str());  // left by a host that died
  }
  // A client that leaves while a reply is on its way must not kill the run
  // with SIGPIPE: a failed write is that client's problem only.
  ::signal(SIGPIPE, SIG_IGN);
  uv_pipe_init(state_->loop, &state_->listener, 0);
  state_->listener.data = state_.get();
  // Created 0600 from the start, not chmod'ed after: no moment when another
  // user could connect.
  const mode_t old_mask = ::umask(0177);
  const int bound = uv_pipe_bind(&state_->listener, path.c_str());
  ::umask(old_mask);
  int rc = bound;
  if (rc == 0) {
    ::chmod(path.c_str(), 0600);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) state_->inode = st.st_ino;
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&state_->listener), 8,
                   [](uv_stream_t* server, int status) {
                     if (status == 0) accept_client(static_cast<State*>(server->data));
                   });
  }
  state_->listening = true;  // the handle is open either way and must be closed
  state_->path = path;
  if (rc != 0) {
    return Error{Kind::config, "cannot serve " + path + ": " + uv_strerror(rc), "control", {}};
  }
  return std::nullopt;
}

}  // namespace belay::control
