// The fixture server, driven by a plain blocking socket client so that what
// is tested is the bytes on the wire, not another HTTP library's reading of
// them. Every socket has a receive timeout, so a broken server fails a test
// instead of hanging it.

#include "support/fixture_server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/run_loop.hpp"

namespace belay::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Connects to 127.0.0.1:port; every recv gives up after timeout_ms.
Socket connect_to(int port, int timeout_ms) {
  Socket socket(::socket(AF_INET, SOCK_STREAM, 0));
  timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const int one = 1;  // so that one-byte writes leave as one-byte segments
  setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(socket.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
      << strerror(errno);
  return socket;
}

// Sends `data` in pieces of `chunk` bytes (0: all at once). Send errors are
// ignored: a server may refuse a request before it has all of it.
void send_all(const Socket& socket, std::string_view data, size_t chunk = 0) {
  const size_t piece = chunk == 0 ? data.size() : chunk;
  for (size_t at = 0; at < data.size(); at += piece) {
    const size_t size = std::min(piece, data.size() - at);
    if (::send(socket.fd(), data.data() + at, size, MSG_NOSIGNAL) < 0) return;
    if (chunk != 0) std::this_thread::sleep_for(milliseconds(1));
  }
}

struct HttpResult {
  int status = 0;       // 0: no status line arrived
  std::string headers;  // the status line and header lines
  std::string body;
  bool timed_out = false;

  std::string header(std::string_view name) const {
    std::string lower_headers = headers, lower_name(name);
    for (std::string* s : {&lower_headers, &lower_name}) {
      std::transform(s->begin(), s->end(), s->begin(), ::tolower);
    }
    const size_t at = lower_headers.find("\r\n" + lower_name + ": ");
    if (at == std::string::npos) return {};
    const size_t start = at + 4 + lower_name.size();
    return headers.substr(start, headers.find("\r\n", start) - start);
  }
};

// Reads until the server closes, the socket times out, or `deadline` passes.
std::string read_all(const Socket& socket, Clock::time_point deadline, bool* timed_out) {
  std::string raw;
  char buffer[16384];
  while (Clock::now() < deadline) {
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n > 0) {
      raw.append(buffer, static_cast<size_t>(n));
      continue;
    }
    *timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    return raw;
  }
  *timed_out = true;
  return raw;
}

HttpResult parse_response(const std::string& raw, bool timed_out) {
  HttpResult result;
  result.timed_out = timed_out;
  const size_t end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos) return result;
  result.status = std::stoi(raw.substr(9, 3));
  result.headers = raw.substr(0, end);
  result.body = raw.substr(end + 4);
  return result;
}

HttpResult read_response(const Socket& socket, int timeout_ms) {
  bool timed_out = false;
  const std::string raw = read_all(socket, Clock::now() + milliseconds(timeout_ms), &timed_out);
  return parse_response(raw, timed_out);
}

HttpResult exchange(int port, std::string_view request, int timeout_ms = 5000, size_t chunk = 0) {
  const Socket socket = connect_to(port, timeout_ms);
  send_all(socket, request, chunk);
  return read_response(socket, timeout_ms);
}

std::string request_for(std::string_view path, std::string_view method = "GET") {
  return std::string(method) + " " + std::string(path) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fixture-test\r\n\r\n";
}

HttpResult http_get(int port, std::string_view path, int timeout_ms = 5000) {
  return exchange(port, request_for(path), timeout_ms);
}

std::string title_of(const std::string& body) {
  const size_t start = body.find("<title>");
  const size_t end = body.find("</title>");
  if (start == std::string::npos || end == std::string::npos) return {};
  return body.substr(start + 7, end - start - 7);
}

int elapsed_ms(Clock::time_point since) {
  return static_cast<int>(std::chrono::duration_cast<milliseconds>(Clock::now() - since).count());
}

// A scratch directory for /static, removed with everything in it.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("belay-fixture-" + std::to_string(::getpid()) + "-" +
               std::to_string(Clock::now().time_since_epoch().count()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

class FixtureServerTest : public ::testing::Test {
 protected:
  BackgroundFixtureServer server_;
};

TEST_F(FixtureServerTest, UrlNamesTheListeningPort) {
  EXPECT_GT(server_.port(), 0);
  EXPECT_EQ(server_.url("/page1"), "http://127.0.0.1:" + std::to_string(server_.port()) + "/page1");
}

TEST_F(FixtureServerTest, NumberedPagesHaveTitleHeadingAndLink) {
  for (int n = 1; n <= 3; ++n) {
    const std::string name = "Page " + std::to_string(n);
    const HttpResult page = http_get(server_.port(), "/page" + std::to_string(n));
    ASSERT_EQ(page.status, 200) << n;
    EXPECT_EQ(title_of(page.body), name);
    EXPECT_THAT(page.body, ::testing::HasSubstr("<h1 id=\"heading\">" + name + "</h1>"));
  }
  EXPECT_THAT(http_get(server_.port(), "/page1").body,
              ::testing::HasSubstr("<a id=\"to-page2\" href=\"/page2\">"));
  const HttpResult root = http_get(server_.port(), "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(title_of(root.body), "Page 1");
}

TEST_F(FixtureServerTest, HtmlDeclaresTypeLengthAndNoCaching) {
  const HttpResult page = http_get(server_.port(), "/page2");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("Content-Length"), std::to_string(page.body.size()));
  EXPECT_EQ(page.header("Cache-Control"), "no-store");
  EXPECT_FALSE(page.timed_out);  // the server closed the connection
}

TEST_F(FixtureServerTest, HeadSendsHeadersWithoutBody) {
  const HttpResult get = http_get(server_.port(), "/page3");
  const HttpResult head = exchange(server_.port(), request_for("/page3", "HEAD"));
  ASSERT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("Content-Length"), std::to_string(get.body.size()));
}

TEST_F(FixtureServerTest, ItemCountsEveryExecution) {
  for (int expected = 1; expected <= 3; ++expected) {
    const HttpResult item = http_get(server_.port(), "/item?key=alpha");
    ASSERT_EQ(item.status, 200);
    EXPECT_EQ(title_of(item.body), "Item alpha");
    EXPECT_THAT(item.body,
                ::testing::HasSubstr("<div id=\"count\">" + std::to_string(expected) + "</div>"))
        << item.body;
    EXPECT_THAT(item.body, ::testing::HasSubstr("<div id=\"key\">alpha</div>"));
  }
  EXPECT_EQ(server_.hits("alpha"), 3);
  EXPECT_EQ(server_.hits("beta"), 0);
  const HttpResult hits = http_get(server_.port(), "/hits?key=alpha");
  ASSERT_EQ(hits.status, 200);
  EXPECT_EQ(hits.header("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(hits.body), (nlohmann::json{{"key", "alpha"}, {"hits", 3}}));
  EXPECT_EQ(server_.hits("alpha"), 3);  // reading the counter does not count
}

TEST_F(FixtureServerTest, HitsWithoutKeyListsEveryCounter) {
  http_get(server_.port(), "/item?key=a");
  http_get(server_.port(), "/item?key=b");
  http_get(server_.port(), "/item?key=b");
  const std::map<std::string, int> expected{{"a", 1}, {"b", 2}};
  EXPECT_EQ(server_.all_hits(), expected);
  EXPECT_EQ(nlohmann::json::parse(http_get(server_.port(), "/hits").body),
            (nlohmann::json{{"a", 1}, {"b", 2}}));
  server_.reset_hits();
  EXPECT_TRUE(server_.all_hits().empty());
  EXPECT_EQ(http_get(server_.port(), "/hits").body, "{}");
  EXPECT_THAT(http_get(server_.port(), "/item?key=a").body,
              ::testing::HasSubstr("<div id=\"count\">1</div>"));
}

TEST_F(FixtureServerTest, ItemKeyIsDecodedAndEscaped) {
  const HttpResult item = http_get(server_.port(), "/item?key=%3Cb%3E+%26%22x");
  ASSERT_EQ(item.status, 200);
  EXPECT_EQ(server_.hits("<b> &\"x"), 1);
  EXPECT_THAT(item.body, ::testing::HasSubstr("<div id=\"key\">&lt;b&gt; &amp;&quot;x</div>"))
      << item.body;
  EXPECT_THAT(item.body, ::testing::Not(::testing::HasSubstr("<b>")));
  EXPECT_EQ(http_get(server_.port(), "/item").status, 400);
}

TEST_F(FixtureServerTest, SlowAnswersAfterTheRequestedDelay) {
  const auto start = Clock::now();
  const HttpResult slow = http_get(server_.port(), "/slow?ms=200");
  EXPECT_GE(elapsed_ms(start), 200);
  ASSERT_EQ(slow.status, 200);
  EXPECT_EQ(title_of(slow.body), "Slow");
}

TEST_F(FixtureServerTest, HalfClosedClientStillGetsTheSlowAnswer) {
  const Socket socket = connect_to(server_.port(), 5000);
  send_all(socket, request_for("/slow?ms=100"));
  ::shutdown(socket.fd(), SHUT_WR);
  EXPECT_EQ(read_response(socket, 5000).status, 200);
}

TEST_F(FixtureServerTest, HangSendsNothingAndShutdownStillCloses) {
  const Socket socket = connect_to(server_.port(), 300);
  send_all(socket, request_for("/hang"));
  const auto start = Clock::now();
  const HttpResult hang = read_response(socket, 300);
  EXPECT_TRUE(hang.timed_out);
  EXPECT_EQ(hang.status, 0);
  EXPECT_GE(elapsed_ms(start), 250);
  EXPECT_EQ(server_.shutdown(), 0);  // with the connection still open on our side
  char byte;
  EXPECT_EQ(::recv(socket.fd(), &byte, 1, 0), 0);  // the server closed it
}

TEST_F(FixtureServerTest, NavigateAwayScriptsTheTarget) {
  const HttpResult defaults = http_get(server_.port(), "/navigate-away");
  ASSERT_EQ(defaults.status, 200);
  EXPECT_EQ(title_of(defaults.body), "Navigating");
  EXPECT_THAT(defaults.body, ::testing::HasSubstr("location.href = \"/page2\"; }, 50)"))
      << defaults.body;
  const HttpResult custom = http_get(server_.port(), "/navigate-away?ms=10&to=%2Fpage3%3Fx%3D1");
  EXPECT_THAT(custom.body, ::testing::HasSubstr("location.href = \"/page3?x=1\"; }, 10)"))
      << custom.body;
  const HttpResult at_once = http_get(server_.port(), "/navigate-away?ms=0");
  EXPECT_THAT(at_once.body, ::testing::HasSubstr("<script>location.href = \"/page2\";</script>"))
      << at_once.body;
}

TEST_F(FixtureServerTest, NavigateAwayTargetCannotEndTheScript) {
  const HttpResult page = http_get(server_.port(), "/navigate-away?to=%3C%2Fscript%3E%22");
  ASSERT_EQ(page.status, 200);
  const size_t first_end = page.body.find("</script>");
  EXPECT_EQ(page.body.find("</script>", first_end + 1), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(R"("<\/script>\"")"), std::string::npos) << page.body;
}

TEST_F(FixtureServerTest, FormHasInputButtonAndDelayedEcho) {
  const HttpResult form = http_get(server_.port(), "/form");
  ASSERT_EQ(form.status, 200);
  EXPECT_EQ(title_of(form.body), "Form");
  for (const char* needle : {"<input id=\"to\">", "<button id=\"send\">", "'sent: ' + value",
                             "textContent", "}, 100);"}) {
    EXPECT_THAT(form.body, ::testing::HasSubstr(needle)) << needle;
  }
  EXPECT_THAT(form.body, ::testing::Not(::testing::HasSubstr("innerHTML")));
}

TEST_F(FixtureServerTest, LateAppendsAfterTheDelayAndHasAHiddenDiv) {
  const HttpResult late = http_get(server_.port(), "/late?ms=250");
  ASSERT_EQ(late.status, 200);
  EXPECT_EQ(title_of(late.body), "Late");
  EXPECT_THAT(late.body,
              ::testing::HasSubstr("<div id=\"hidden\" style=\"display:none\">hidden</div>"));
  EXPECT_THAT(late.body, ::testing::HasSubstr("late.id = 'late'"));
  EXPECT_THAT(late.body, ::testing::HasSubstr("}, 250);"));
  EXPECT_THAT(late.body, ::testing::Not(::testing::HasSubstr("id=\"late\"")));  // not there yet
  EXPECT_THAT(http_get(server_.port(), "/late").body, ::testing::HasSubstr("}, 500);"));
}

TEST_F(FixtureServerTest, BigHasTheRequestedSize) {
  const HttpResult small = http_get(server_.port(), "/big?kb=100");
  ASSERT_EQ(small.status, 200);
  EXPECT_EQ(small.body.size(), 100u * 1024);
  EXPECT_EQ(title_of(small.body), "Big");
  EXPECT_THAT(small.body, ::testing::HasSubstr("quick brown fox"));
  const HttpResult standard = http_get(server_.port(), "/big");
  EXPECT_EQ(standard.body.size(), 1024u * 1024);
  EXPECT_EQ(standard.header("Content-Length"), std::to_string(1024 * 1024));
}

TEST_F(FixtureServerTest, ClientLeavingMidResponseDoesNotHurtTheServer) {
  {
    const Socket socket = connect_to(server_.port(), 5000);
    send_all(socket, request_for("/big?kb=8192"));
    char buffer[1024];
    EXPECT_GT(::recv(socket.fd(), buffer, sizeof buffer, 0), 0);
  }  // closed with most of the response unread: the server's write fails
  EXPECT_EQ(http_get(server_.port(), "/page1").status, 200);
}

TEST_F(FixtureServerTest, UnknownPathIs404) {
  const HttpResult missing = http_get(server_.port(), "/no-such-page");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(missing.body, ::testing::HasSubstr("/no-such-page"));
  EXPECT_EQ(http_get(server_.port(), "/static/x.txt").status, 404);  // no static dir
}

TEST(FixtureStatic, ServesFilesWithTypeByExtension) {
  TempDir dir;
  dir.write("a.txt", "plain text");
  dir.write("sub/b.json", "{\"b\":1}");
  dir.write("c.js", "var c;");
  dir.write("d.png", std::string("\x89PNG\0\x01", 6));
  BackgroundFixtureServer server(dir.path());
  const struct {
    const char* path;
    const char* type;
    std::string body;
  } cases[] = {{"/static/a.txt", "text/plain; charset=utf-8", "plain text"},
               {"/static/sub/b.json", "application/json", "{\"b\":1}"},
               {"/static/c.js", "text/javascript; charset=utf-8", "var c;"},
               {"/static/d.png", "image/png", std::string("\x89PNG\0\x01", 6)}};
  for (const auto& c : cases) {
    const HttpResult file = http_get(server.port(), c.path);
    EXPECT_EQ(file.status, 200) << c.path;
    EXPECT_EQ(file.header("Content-Type"), c.type) << c.path;
    EXPECT_EQ(file.body, c.body) << c.path;
  }
  EXPECT_EQ(http_get(server.port(), "/static/missing.txt").status, 404);
  EXPECT_EQ(http_get(server.port(), "/static/sub").status, 404);  // a directory
}

TEST(FixtureStatic, RefusesPathsOutsideTheDirectory) {
  TempDir dir;
  dir.write("inner/a.txt", "inside");
  dir.write("secret.txt", "outside");
  BackgroundFixtureServer server(dir.path() + "/inner");
  EXPECT_EQ(http_get(server.port(), "/static/a.txt").body, "inside");
  for (const char* path :
       {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/x/../../secret.txt",
        "/static//etc/passwd", "/static/%2Fetc%2Fpasswd", "/static/..%5Csecret.txt"}) {
    const HttpResult refused = http_get(server.port(), path);
    EXPECT_EQ(refused.status, 403) << path;
    EXPECT_THAT(refused.body, ::testing::Not(::testing::HasSubstr("outside"))) << path;
  }
}

TEST_F(FixtureServerTest, RequestSplitIntoSingleBytes) {
  const HttpResult split = exchange(server_.port(), request_for("/item?key=split"), 5000, 1);
  ASSERT_EQ(split.status, 200);
  EXPECT_EQ(title_of(split.body), "Item split");
  EXPECT_EQ(server_.hits("split"), 1);
}

TEST_F(FixtureServerTest, BytesAfterTheRequestAreIgnored) {
  const std::string junk(100000, 'x');
  const HttpResult page = exchange(
      server_.port(), request_for("/item?key=once") + request_for("/item?key=once") + junk);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(title_of(page.body), "Item once");
  EXPECT_EQ(server_.hits("once"), 1);
}

TEST_F(FixtureServerTest, GarbageGets400) {
  const std::string cases[] = {
      "GARBAGE\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", 12),  // a TLS hello
      "GET /page1\r\n\r\n",
      "GET page1 HTTP/1.1\r\n\r\n",
      "GET /page1 HTTP/2.0\r\n\r\n",
      "GET /page1 HTTP/1.1\r\nno colon here\r\n\r\n",
      "GET /page1 HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
  };
  for (const std::string& request : cases) {
    const HttpResult bad = exchange(server_.port(), request);
    EXPECT_EQ(bad.status, 400) << request;
    EXPECT_FALSE(bad.timed_out) << request;
  }
  EXPECT_EQ(http_get(server_.port(), "/page1").status, 200);  // still serving
}

TEST_F(FixtureServerTest, OversizedHeadersGet400) {
  const std::string big_header = "X-Big: " + std::string(70 * 1024, 'a') + "\r\n";
  const HttpResult bad = exchange(server_.port(), "GET /page1 HTTP/1.1\r\n" + big_header + "\r\n");
  EXPECT_EQ(bad.status, 400);
  // Headers that never end are cut off at the limit too.
  const HttpResult endless = exchange(server_.port(), "GET /page1 HTTP/1.1\r\n" + big_header);
  EXPECT_EQ(endless.status, 400);
  EXPECT_FALSE(endless.timed_out);
  // Just under the limit is fine.
  const std::string fits = "X-Fits: " + std::string(60 * 1024, 'a') + "\r\n";
  EXPECT_EQ(exchange(server_.port(), "GET /page1 HTTP/1.1\r\n" + fits + "\r\n").status, 200);
}

TEST_F(FixtureServerTest, OtherMethodsGet405) {
  const HttpResult post = exchange(server_.port(), request_for("/item?key=p", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  EXPECT_EQ(server_.hits("p"), 0);
}

TEST_F(FixtureServerTest, FiftyConcurrentConnectionsAllAnswered) {
  constexpr int kConnections = 50;
  std::vector<Socket> sockets;
  for (int i = 0; i < kConnections; ++i) sockets.push_back(connect_to(server_.port(), 5000));
  for (const Socket& socket : sockets) send_all(socket, request_for("/item?key=many"));
  std::set<std::string> counts;
  for (const Socket& socket : sockets) {
    const HttpResult item = read_response(socket, 5000);
    ASSERT_EQ(item.status, 200);
    const size_t at = item.body.find("<div id=\"count\">");
    ASSERT_NE(at, std::string::npos);
    counts.insert(item.body.substr(at + 16, item.body.find('<', at + 16) - at - 16));
  }
  EXPECT_EQ(counts.size(), static_cast<size_t>(kConnections));  // each saw its own count
  EXPECT_EQ(server_.hits("many"), kConnections);
}

// A FixtureServer on a loop the test drives itself.
class FixtureOnTestLoop : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override { EXPECT_EQ(drain_and_close(&loop_), 0); }
  uv_loop_t loop_{};
};

TEST_F(FixtureOnTestLoop, StopClosesIdleAndHangingConnections) {
  FixtureServer server(&loop_);
  ASSERT_GT(server.start(), 0);
  const Socket idle = connect_to(server.port(), 2000);  // the kernel accepts it for us
  const Socket hanging = connect_to(server.port(), 2000);
  send_all(hanging, request_for("/hang"));
  ASSERT_TRUE(run_until(
      &loop_, [&] { return server.open_connections() == 2; }, 2000));
  run_until(
      &loop_, [] { return false; }, 50);  // time for the /hang request to be read
  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_EQ(server.open_connections(), 0u);
  ASSERT_TRUE(run_until(
      &loop_, [&] { return stopped; }, 2000));
  char byte;
  EXPECT_EQ(::recv(idle.fd(), &byte, 1, 0), 0);
  EXPECT_EQ(::recv(hanging.fd(), &byte, 1, 0), 0);
}

TEST_F(FixtureOnTestLoop, ServerMayGoRightAfterStop) {
  bool stopped = false;
  const Socket client = [&] {
    FixtureServer server(&loop_);
    EXPECT_GT(server.start(), 0);
    Socket socket = connect_to(server.port(), 2000);
    EXPECT_TRUE(run_until(
        &loop_, [&] { return server.open_connections() == 1; }, 2000));
    server.stop([&] { stopped = true; });
    return socket;
  }();  // destroyed before a single close callback ran
  EXPECT_FALSE(stopped);
  ASSERT_TRUE(run_until(
      &loop_, [&] { return stopped; }, 2000));
}

TEST_F(FixtureOnTestLoop, StopWithoutStartRunsTheCallback) {
  FixtureServer server(&loop_);
  bool stopped = false;
  server.stop([&] { stopped = true; });
  EXPECT_TRUE(stopped);
  EXPECT_EQ(server.start(), UV_EINVAL);  // a stopped server stays stopped
}

TEST_F(FixtureOnTestLoop, BusyPortIsAnError) {
  FixtureServer first(&loop_);
  FixtureServer second(&loop_);
  ASSERT_GT(first.start(), 0);
  EXPECT_EQ(second.start(first.port()), UV_EADDRINUSE);
  first.stop();
  second.stop();
}

}  // namespace
}  // namespace belay::test
