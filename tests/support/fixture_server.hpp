#pragma once
// A small HTTP/1.1 server that gives tests real pages to drive Chromium
// against: plain pages, slow and hanging responses, pages that navigate away
// by themselves, and per-key execution counters that tell a test how many
// times an item really ran. GET and HEAD only, one request per connection.
//
// Routes (query values are URL-decoded):
//   /, /page1, /page2, /page3    small pages titled "Page N" ("/" is page 1)
//   /slow?ms=N                   "Slow" page sent after N ms (default 1000)
//   /hang                        never answers
//   /navigate-away?ms=N&to=PATH  "Navigating" page; sets location.href after N ms
//                                (ms=0: at once, while the page is still parsing)
//   /item?key=K                  counts an execution of K; shows the new count
//   /hits[?key=K]                counters as JSON, without counting
//   /echo-headers                the request's headers as JSON (names lowercased)
//   /form                        an input, a button, and a delayed #sent echo
//   /late?ms=N                   #late appears after N ms; #hidden is display:none
//   /big?kb=N                    about N KiB of HTML (default 1024)
//   /actionable?ms=N&banner_ms=N&enable_ms=N  buttons clickable late or never; mouse log
//   /inputs                      form controls of every kind; window.snapshot() reads them
//   /rerender                    list of buttons replaced by new nodes every 50 ms
//   /keys                        #field and #area; key and focus events logged
//   /long?px=N                   page N px tall (default 5000, at most 20000); #top, #box, #bottom
//   /texts                       buttons, links and text for text= and xpath= selectors
//   /downloads                   links with a `download` attribute: a file, a 404, twice,
//                                and #big: 5 MiB of /generated
//   /generated?kb=N              N KiB of generated_bytes (application/octet-stream)
//   /late-requests?ms=N          fetches twice, one after the other, from its load handler
//   /images?n=N, /pixel.png      N images (counts their load and error); a 1x1 PNG
//   /fetch                       POSTs to /api/data from the page; shows what came back
//   /popup                       opens popups: window.open and a target=_blank link
//   /frames?cross=URL            iframes "same" (/inputs) and "cross" (URL, default /inputs)
//   /static/NAME                 files from set_static_dir()

#include <uv.h>

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace belay::test {

// The first `size` bytes /generated serves: every byte value, in an order
// that does not repeat every 256 bytes, so a lost or moved chunk shows.
std::string generated_bytes(size_t size);

// Execution counters, shared between the loop thread that counts and the
// test thread that reads them.
class HitCounter {
 public:
  int increment(const std::string& key);
  int get(std::string_view key) const;
  std::map<std::string, int> all() const;
  void reset();

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int, std::less<>> counts_;
};

class FixtureServer {
 public:
  // Runs on the caller's loop. The loop must outlive the server.
  explicit FixtureServer(uv_loop_t* loop);
  // Expects stop() to have been called; then it touches nothing on the loop.
  // If it was not, it stops the server itself, which needs the loop still open.
  ~FixtureServer();
  FixtureServer(const FixtureServer&) = delete;
  FixtureServer& operator=(const FixtureServer&) = delete;

  // Binds 127.0.0.1:`port` (0: the kernel picks) and listens. Returns the port,
  // or a negative uv error code. Call at most once.
  int start(int port = 0);
  // Closes the listener and every open connection, hanging ones included.
  // `on_stopped` runs on the loop once every handle is closed (at once if none
  // was open; likewise on a second call). The server may be destroyed right
  // after stop() returns.
  void stop(std::function<void()> on_stopped = {});

  int port() const { return port_; }
  std::string url(std::string_view path) const;
  // Where /static/NAME is served from; empty (the default) serves nothing.
  void set_static_dir(std::string dir) { static_dir_ = std::move(dir); }
  // Connections accepted and not yet closed.
  size_t open_connections() const { return connections_.size(); }

  int hits(std::string_view key) const { return hits_.get(key); }
  std::map<std::string, int> all_hits() const { return hits_.all(); }
  void reset_hits() { hits_.reset(); }

 private:
  class Connection;
  struct Listener;
  struct StopLatch;
  friend class Connection;

  static void on_connection(uv_stream_t* stream, int status);
  void accept_connection();
  std::unique_ptr<Connection> take_connection(Connection* connection);

  uv_loop_t* loop_;
  int port_ = -1;
  std::string static_dir_;
  HitCounter hits_;
  std::unique_ptr<Listener> listener_;
  // Held by the server and by every open handle; when the last one lets go,
  // on_stopped runs. Null once stop() was called.
  std::shared_ptr<StopLatch> latch_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

// Runs a FixtureServer on its own thread and loop, so a test can use it while
// blocking or while driving another loop.
class BackgroundFixtureServer {
 public:
  // Starts the thread and returns once the server listens. Throws
  // std::runtime_error if it cannot listen.
  BackgroundFixtureServer();
  explicit BackgroundFixtureServer(std::string static_dir);
  // Calls shutdown(); a non-zero uv_loop_close result is reported as a test
  // failure.
  ~BackgroundFixtureServer();
  BackgroundFixtureServer(const BackgroundFixtureServer&) = delete;
  BackgroundFixtureServer& operator=(const BackgroundFixtureServer&) = delete;

  // Stops the server, joins the thread and returns uv_loop_close's result
  // (0: no handle leaked). Later calls return the same value. Counters stay
  // readable afterwards. If the loop is still busy after 10 s (a handle that
  // stop() missed) it aborts with a message rather than hang the test run.
  int shutdown();

  int port() const { return port_; }
  std::string url(std::string_view path) const;
  int hits(std::string_view key) const { return server_->hits(key); }
  std::map<std::string, int> all_hits() const { return server_->all_hits(); }
  void reset_hits() { server_->reset_hits(); }

 private:
  void run(std::string static_dir, std::promise<int> listening, std::promise<void> finished);
  static void on_stop_requested(uv_async_t* async);

  uv_loop_t loop_{};
  uv_async_t stop_async_{};
  // Created and started on the server thread before `listening` is fulfilled,
  // destroyed by this object after the thread is joined.
  std::unique_ptr<FixtureServer> server_;
  std::thread thread_;
  std::future<void> finished_;
  int port_ = -1;
  bool joined_ = false;
  int loop_close_result_ = 0;
};

}  // namespace belay::test
