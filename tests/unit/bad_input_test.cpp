// Bad input, no browser (docs/bad-input.md): every input belay reads gets a
// clear error and loses nothing. Campaign and ladder tables, hot reloads,
// the environment, control-socket messages, CDP messages from a peer that
// misbehaves (a fake one: Chrome cannot be made to send these), and state
// files. Rows whose test lives elsewhere name it in the doc.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "browser/page.hpp"
#include "campaign/event_log.hpp"
#include "cdp/connection.hpp"
#include "cdp/ws_transport.hpp"
#include "chrome/chrome_process.hpp"
#include "control/control_client.hpp"
#include "control/control_server.hpp"
#include "control/protocol.hpp"
#include "script_host.hpp"
#include "store/store.hpp"
#include "support/belay_process.hpp"
#include "support/fake_cdp_transport.hpp"
#include "support/fake_ws_peer.hpp"
#include "support/run_loop.hpp"
#include "support/state_files.hpp"

namespace belay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// --- campaign and ladder tables ----------------------------------------------

// A campaign with `fields` spliced into its table at line 3.
std::string campaign_with(const std::string& fields) {
  return "-- line 1\n"
         "return {\n" +
         fields +
         "  items = { { id = \"a\" } },\n"
         "  run = function(page, item, ctx) return { ok = true } end,\n"
         "}\n";
}

class BadCampaign : public ::testing::Test {
 protected:
  // Loads `source` as `belay run` does: it must fail with a config error at
  // `line` (0: any line) whose message contains `part`.
  Error refused(const std::string& source, int line, const std::string& part,
                const std::string& name = "campaign.lua") {
    const std::string file = dir_.write(name, source);
    std::optional<Error> error;
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
      auto host = lua::ScriptHost::create(&loop, {});
      auto loaded = host->load(file);
      if (!loaded.ok()) error = loaded.error();
    }
    EXPECT_EQ(test::drain_and_close(&loop), 0);
    if (!error) {
      ADD_FAILURE() << "accepted: " << source.substr(0, 200);
      return {};
    }
    const Error& e = *error;
    EXPECT_EQ(e.kind, Kind::config) << e.to_string();
    const std::string where = file + ":" + (line > 0 ? std::to_string(line) + ":" : "");
    EXPECT_TRUE(starts_with(e.message, where)) << "expected " << where << "\n" << e.message;
    EXPECT_THAT(e.message, ::testing::HasSubstr(part));
    return e;
  }

  TempDir dir_{"belay-bad-input-"};
};

TEST_F(BadCampaign, ReturningSomethingOtherThanATableIsAConfigError) {
  const std::string file = dir_.write("campaign.lua", "return 42\n");
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    auto host = lua::ScriptHost::create(&loop, {});
    auto loaded = host->load(file);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().kind, Kind::config);
    EXPECT_EQ(loaded.error().message, file + ":1: the campaign file must return a table");
  }
  EXPECT_EQ(test::drain_and_close(&loop), 0);
}

TEST_F(BadCampaign, TopLevelThatWaitsOnTheHostIsAConfigError) {
  refused("belay.sleep(10)\n" + campaign_with(""), 1,
          "belay.sleep cannot be called here: browser calls run only inside run");
}

TEST_F(BadCampaign, BinaryChunkIsRefused) {
  const std::string file =
      dir_.write("campaign.lua", std::string("\x1bLua\x54\x00\x19\x93\r\n\x1a\n", 12));
  auto r = lua::check_file(file);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("binary chunks are not allowed"));
}

TEST_F(BadCampaign, CheckingADirectoryIsAConfigErrorNotAModule) {
  fs::create_directories(dir_.file("adir.lua"));
  auto report = lua::check_file(dir_.file("adir.lua"));
  ASSERT_FALSE(report.ok()) << "passed as " << report.value().summary;
  EXPECT_EQ(report.error().kind, Kind::config);
  EXPECT_EQ(report.error().message, dir_.file("adir.lua") + ": a directory, not a script");
}

TEST_F(BadCampaign, KeyThatIsNotANameIsAConfigError) {
  refused(campaign_with("  [1] = \"x\",\n"), 0, "has a key that is not a name");
}

// An unknown key is looked up in the source to name its line; a key that is
// no Lua name (it holds regex syntax) must not break that lookup.
TEST_F(BadCampaign, UnknownKeyWithPunctuationIsAConfigErrorNotACrash) {
  for (const std::string key : {"x(", "a)b", "[", "\\\\", "*+?", "{2", "a.b("}) {
    SCOPED_TRACE(key);
    refused(campaign_with("  [\"" + key + "\"] = 1,\n"), 0, "is not a known field");
  }
}

TEST_F(BadCampaign, VeryLongUnknownKeyIsAConfigErrorNotACrash) {
  const std::string key(200000, 'k');
  refused(campaign_with("  " + key + " = 1,\n"), 3, "is not a known field");
}

TEST_F(BadCampaign, NotANumberIsRefusedWhereANumberIsExpected) {
  refused(campaign_with("  retry = { base_ms = 0/0 },\n"), 3, "retry.base_ms");
  refused(campaign_with("  retry = { jitter = 0/0 },\n"), 3, "retry.jitter");
  refused(campaign_with("  health = { interval_ms = 0/0 },\n"), 3, "health.interval_ms");
  refused(campaign_with("  supervisor = { delay_ms = -(0/0) },\n"), 3, "supervisor.delay_ms");
}

TEST_F(BadCampaign, NumberOutOfRangeNamesTheFieldAndTheRange) {
  refused(campaign_with("  retry = { attempts = 0 },\n"), 3, "must be between 1 and 1000, got 0");
  refused(campaign_with("  retry = { jitter = 2 },\n"), 3, "retry.jitter");
  refused(campaign_with("  soft_restart = { items = -1 },\n"), 3, "soft_restart.items");
  refused(campaign_with("  health = { timeout_ms = 0 },\n"), 3, "health.timeout_ms");
  refused(campaign_with("  pause = { ms = 1/0 },\n"), 3, "pause.ms");
  refused(campaign_with("  pause = { remind_ms = 10 },\n"), 3, "pause.remind_ms");
}

TEST_F(BadCampaign, FractionWhereAnIntegerIsExpectedIsRefused) {
  refused(campaign_with("  retry = { attempts = 2.5 },\n"), 3, "must be an integer");
  refused(campaign_with("  pause = { max_error_streak = 1.5 },\n"), 3, "pause.max_error_streak");
}

TEST_F(BadCampaign, UnknownErrorKindInRetryKindsIsRefused) {
  refused(campaign_with("  retry = { kinds = { \"timeout\", \"Timeout\" } },\n"), 3,
          "'Timeout' is not an error kind");
  refused(campaign_with("  retry = { kinds = { 5 } },\n"), 3, "retry.kinds[1]");
}

TEST_F(BadCampaign, AnUnknownFieldSuggestsTheNearestKnownOne) {
  refused(campaign_with("  retyr = { attempts = 2 },\n"), 3,
          "'retyr' is not a known field (did you mean 'retry'?)");
  refused(campaign_with("  supervisor = { max_restart = 3 },\n"), 3,
          "(did you mean 'max_restarts'?)");
  refused(campaign_with("  timeouts = { acton = 5 },\n"), 3,
          "'timeouts.acton' is not a known field (did you mean 'action'?)");
  const Error far = refused(campaign_with("  zzzzzz = 1,\n"), 3, "is not a known field");
  EXPECT_THAT(far.message, ::testing::Not(::testing::HasSubstr("did you mean")));
}

TEST_F(BadCampaign, TimeoutsArePositiveWholeMilliseconds) {
  refused(campaign_with("  timeouts = { action = 0 },\n"), 3, "timeouts.action");
  refused(campaign_with("  timeouts = { navigation = 1.5 },\n"), 3, "must be an integer");
  refused(campaign_with("  timeouts = 5000,\n"), 3, "must be a table, got number");
}

TEST_F(BadCampaign, UnknownFieldInANestedTableIsRefused) {
  refused(campaign_with("  supervisor = { max_restart = 3 },\n"), 3, "supervisor.max_restart");
  refused(campaign_with("  retry = 3,\n"), 3, "must be a table, got number");
}

TEST_F(BadCampaign, BadProfilesAreRefused) {
  refused(campaign_with("  profiles = {},\n"), 3, "must name at least one profile");
  refused(campaign_with("  profiles = { \"p1\", \"p1\" },\n"), 3, "repeats the profile name 'p1'");
  refused(campaign_with("  profiles = { \"../etc\" },\n"), 3, "without spaces or slashes");
  refused(campaign_with("  profiles = { \".hidden\" },\n"), 3, "without spaces or slashes");
  refused(campaign_with("  profiles = { 7 },\n"), 3, "must be a name or a table, got number");
  refused(campaign_with("  profiles = { { name = \"p\", connect = \"http://x\" } },\n"), 3,
          "must be a ws:// URL");
  refused(campaign_with("  profiles = { { name = \"p\", flags = { 1 } } },\n"), 3,
          "profiles[1].flags[1]");
  refused(campaign_with("  profiles = { { name = \"p\", proxy = \"x\" } },\n"), 3,
          "profiles[1].proxy");
}

TEST_F(BadCampaign, ItemsOfTheWrongTypeAreRefused) {
  refused("return { items = 42, run = function() end }\n", 1,
          "must be a file name, a list of items or an iterator function");
}

TEST_F(BadCampaign, ItemThatIsNotATableIsRefused) {
  refused(
      "return {\n  items = { { id = 1 }, \"two\" },\n  run = function() "
      "end }\n",
      2, "item 2 is not a table/object");
}

TEST_F(BadCampaign, ItemThatIsNotJsonIsRefused) {
  refused("return {\n  items = { { f = print } },\n  run = function() end }\n", 2, "[1]");
}

TEST_F(BadCampaign, DuplicateItemKeysAreRefused) {
  refused(
      "return {\n  items = { { id = \"a\" }, { id = \"b\" }, { id = \"a\" "
      "} },\n"
      "  run = function() end }\n",
      2, "duplicate keys (item.id), first: 'a'");
}

TEST_F(BadCampaign, ItemsIteratorThatRaisesOrWaitsIsAConfigError) {
  const std::string raising = dir_.write("raising.lua",
                                         "local n = 0\n"
                                         "return { run = function() end,\n"
                                         "  items = function() n = n + 1; if n > 2 then error(\"no "
                                         "more\") end; return { id = n } end }\n");
  auto r = lua::check_file(raising);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::config);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("no more"));
  EXPECT_THAT(r.error().message, ::testing::HasSubstr(raising + ":3:"));

  const std::string waiting = dir_.write("waiting.lua",
                                         "return { run = function() end, items = "
                                         "function() belay.sleep(1) end }\n");
  auto w = lua::check_file(waiting);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, Kind::config);
  EXPECT_THAT(w.error().message,
              ::testing::HasSubstr(waiting + ":1: belay.sleep cannot be called here"));
}

TEST_F(BadCampaign, RunawayItemsIteratorIsStoppedAsSandbox) {
  const std::string file = dir_.write("runaway.lua",
                                      "return { run = function() end, items = "
                                      "function() while true do end end }\n");
  auto r = lua::check_file(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::sandbox) << r.error().to_string();
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("quota"));
}

// An iterator that never returns nil used to grow the host until it died
// (no quota counts across calls: each call is a fresh slice).
TEST_F(BadCampaign, ItemsIteratorThatNeverEndsIsAConfigErrorAtTheMemoryCap) {
  const std::string file =
      dir_.write("endless.lua",
                 "local n = 0\n"
                 "return { run = function() end, items = function()\n"
                 "  n = n + 1; return { id = n, pad = ('x'):rep(1 << 20) } end }\n");
  auto r = lua::check_file(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::config) << r.error().to_string();
  EXPECT_THAT(r.error().message,
              ::testing::HasSubstr("without ending (an iterator ends by returning nil)"));
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("than the script's 256 MiB"));
}

TEST_F(BadCampaign, BadItemsFileIsAConfigErrorNamingItsLine) {
  dir_.write("items.jsonl", "{\"id\":1}\n{\"id\":2,}\n");
  const Error e = [&] {
    const std::string file =
        dir_.write("campaign.lua", "return { items = \"items.jsonl\", run = function() end }\n");
    auto r = lua::check_file(file);
    EXPECT_FALSE(r.ok());
    return r.ok() ? Error{} : r.error();
  }();
  EXPECT_EQ(e.kind, Kind::config);
  EXPECT_THAT(e.message, ::testing::HasSubstr("items.jsonl:2:"));
}

class BadLadder : public BadCampaign {};

TEST_F(BadLadder, UnknownLadderNameIsAConfigError) {
  refused(campaign_with("  ladder = \"no_such_ladder\",\n"), 3,
          "names ladder 'no_such_ladder', which is neither beside the campaign "
          "nor in");
}

TEST_F(BadLadder, LadderNameThatIsAPathIsRefused) {
  refused(campaign_with("  ladder = \"../secrets\",\n"), 3, "is not a ladder name");
  refused(campaign_with("  ladder = 5,\n"), 3, "must be a ladder name or a ladder table");
}

TEST_F(BadLadder, LadderFileThatFailsOrReturnsNoTableIsAConfigError) {
  const std::string ladder = dir_.write("mine.lua", "return 'not a ladder'\n");
  const std::string campaign = dir_.write("campaign.lua", campaign_with("  ladder = \"mine\",\n"));
  auto no_table = lua::check_file(campaign);
  ASSERT_FALSE(no_table.ok());
  EXPECT_EQ(no_table.error().kind, Kind::config);
  EXPECT_EQ(no_table.error().message, ladder + ":1: a ladder file must return a table");

  dir_.write("mine.lua", "local x = nil\nreturn { steps = { x.y } }\n");
  auto r = lua::check_file(dir_.file("campaign.lua"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::config);
  EXPECT_TRUE(starts_with(r.error().message, ladder + ":2:")) << r.error().message;
}

TEST_F(BadLadder, BadStepsAndHooksAreRefused) {
  refused(campaign_with("  ladder = { steps = { \"reload\" } },\n"), 3, "ladder.steps[1]");
  // A missing field has no line of its own: the first `run =` is named.
  refused(campaign_with("  ladder = { steps = { { name = \"x\" } } },\n"), 0,
          "ladder.steps[1].run");
  refused(campaign_with("  ladder = { steps = { { name = \"x\", run = print, "
                        "undo = print } } },\n"),
          3, "ladder.steps[1].undo");
  refused(campaign_with("  ladder = { around = 5 },\n"), 3, "ladder.around' must be a function");
  refused(campaign_with("  ladder = { backoff_ms = -1 },\n"), 3, "ladder.backoff_ms");
}

TEST_F(BadLadder, InheritanceCycleIsAConfigError) {
  dir_.write("a.lua", "return { from = \"b\", steps = {} }\n");
  dir_.write("b.lua", "return { from = \"a\", steps = {} }\n");
  const std::string file = dir_.write("campaign.lua", campaign_with("  ladder = \"a\",\n"));
  auto r = lua::check_file(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::config);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("levels deep (a cycle?)"));
}

// --- hot reload
// ----------------------------------------------------------------

class BadReload : public BadCampaign {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override {
    host_.reset();
    EXPECT_EQ(test::drain_and_close(&loop_), 0);
  }
  // Loads a good campaign; returns its path.
  std::string load_good() {
    const std::string file = dir_.write("campaign.lua", campaign_with("  name = \"v1\",\n"));
    host_ = lua::ScriptHost::create(&loop_, {});
    auto loaded = host_->load(file);
    EXPECT_TRUE(loaded.ok()) << loaded.error().to_string();
    return file;
  }

  uv_loop_t loop_{};
  std::unique_ptr<lua::ScriptHost> host_;
};

// Version numbers count successful loads: a good reload after refused ones
// is version 2, so none of the refused edits was ever installed.
TEST_F(BadReload, EditThatFailsValidationKeepsTheOldVersion) {
  const std::string file = load_good();
  dir_.write("campaign.lua", campaign_with("  retry = { attempts = 0 },\n"));
  auto bad_field = host_->reload();
  ASSERT_FALSE(bad_field.ok());
  EXPECT_EQ(bad_field.error().kind, Kind::config);
  EXPECT_TRUE(starts_with(bad_field.error().message, file + ":3:")) << bad_field.error().message;

  dir_.write("campaign.lua", campaign_with("  ladder = \"nowhere\",\n"));
  EXPECT_FALSE(host_->reload().ok());
  dir_.write("campaign.lua", "return {\n  items = { 1 },\n  run = function() end }\n");
  EXPECT_FALSE(host_->reload().ok());

  dir_.write("campaign.lua", campaign_with("  name = \"v2\",\n"));
  auto good = host_->reload();
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good.value(), 2u);
}

TEST_F(BadReload, DeletedOrEmptiedCampaignFileKeepsTheOldVersion) {
  const std::string file = load_good();
  fs::remove(file);
  auto gone = host_->reload();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, Kind::config);
  EXPECT_THAT(gone.error().message, ::testing::HasSubstr(file));

  dir_.write("campaign.lua", "");
  auto empty = host_->reload();
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, ::testing::HasSubstr("must return a table"));

  dir_.write("campaign.lua", campaign_with(""));
  auto good = host_->reload();
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good.value(), 2u);
}

TEST_F(BadReload, BrokenLadderFileKeepsTheOldVersion) {
  dir_.write("mine.lua", "return { steps = {} }\n");
  const std::string file = dir_.write("campaign.lua", campaign_with("  ladder = \"mine\",\n"));
  host_ = lua::ScriptHost::create(&loop_, {});
  ASSERT_TRUE(host_->load(file).ok());
  const std::string ladder = dir_.write("mine.lua", "return { steps = { = } }\n");
  auto broken = host_->reload();
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind, Kind::config);
  EXPECT_TRUE(starts_with(broken.error().message, ladder + ":1:")) << broken.error().message;
  dir_.write("mine.lua", "return { steps = {} }\n");
  auto good = host_->reload();
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good.value(), 2u);
}

// --- environment
// ------------------------------------------------------------------

TEST_F(BadCampaign, LaddersDirFromTheEnvironmentThatDoesNotExistIsAConfigError) {
  ScopedEnv env("BELAY_LADDERS_DIR", dir_.file("no-ladders-here"));
  refused(campaign_with(""), 0, dir_.file("no-ladders-here"));
}

TEST_F(BadCampaign, ScriptsDirFromTheEnvironmentThatDoesNotExistIsAnError) {
  ScopedEnv env("BELAY_SCRIPTS_DIR", dir_.file("no-scripts-here"));
  const std::string file = dir_.write("campaign.lua", campaign_with(""));
  auto r = lua::check_file(file);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("belay.retry"));
  EXPECT_THAT(r.error().message, ::testing::HasSubstr(dir_.file("no-scripts-here")));
}

// TMPDIR is read only for a browser without a user-data-dir (belay's own
// commands always give one under the state): unusable, the launch fails
// before any process is spawned, saying why.
TEST(BadLaunchDir, UnusableTmpdirOrUserDataDirFailsTheLaunchWithoutSpawning) {
  TempDir dir("belay-launch-");
  dir.write("plain", "x");
  uv_loop_t loop;
  uv_loop_init(&loop);
  for (const bool own_dir : {false, true}) {
    SCOPED_TRACE(own_dir ? "user_data_dir" : "TMPDIR");
    ScopedEnv env("TMPDIR", dir.file("no/such/tmp"));
    chrome::LaunchOptions options;
    if (own_dir) options.user_data_dir = dir.file("plain/profile");
    chrome::ChromeProcess chrome(&loop, options);
    std::optional<Error> failed;
    chrome.start([&](Result<chrome::DevToolsChannel> r) {
      failed = r.ok() ? Error{Kind::protocol, "launched", "", {}} : r.error();
    });
    ASSERT_TRUE(test::run_until(
        &loop, [&] { return failed.has_value(); }, 10000));
    EXPECT_EQ(failed->kind, Kind::browser_disconnected) << failed->to_string();
    EXPECT_THAT(failed->message, ::testing::HasSubstr("user-data-dir"));
    EXPECT_EQ(chrome.pid(), 0);
  }
  EXPECT_EQ(test::drain_and_close(&loop), 0);
  EXPECT_EQ(test::file_bytes(dir.file("plain")), "x");
}

// --- control-socket messages
// -------------------------------------------------------

// A console that answers `eval` with the chunk itself, or holds it ("hold").
class EchoSession final : public control::ControlSession {
 public:
  void eval(const std::string& chunk, Evaluated done) override {
    if (chunk == "hold") {
      held_ = std::move(done);
      return;
    }
    done(true, chunk == "bytes" ? std::string("\xff\xfe ok") : chunk);
  }
  bool busy() const override { return static_cast<bool>(held_); }
  void cancel() override {
    if (held_) {
      auto done = std::move(held_);
      held_ = nullptr;
      done(false, "cancelled: at the console");
    }
  }
  std::vector<std::string> complete(const std::string& word) override { return {word + "x"}; }

 private:
  Evaluated held_;
};

// A blocking unix-socket client, run on a thread of its own while the test's
// loop serves it.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  // The next line, or nullopt at EOF or after 10 s.
  std::optional<std::string> line() {
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return out;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return std::nullopt;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  std::optional<json> message() {
    auto text = line();
    if (!text) return std::nullopt;
    json parsed = json::parse(*text, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON from the host: " << *text;
    return parsed;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class BadControlMessage : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    path_ = dir_.file("control.sock");
    server_ = std::make_unique<control::ControlServer>(
        &loop_,
        [](std::function<void(std::string_view)>) { return std::make_unique<EchoSession>(); });
    ASSERT_FALSE(server_->listen(path_).has_value());
  }
  void TearDown() override {
    server_.reset();
    EXPECT_EQ(test::drain_and_close(&loop_), 0);
  }
  // Runs `client` on a thread while the loop serves it.
  void with_client(const std::function<void()>& client) {
    std::atomic<bool> done{false};
    std::thread thread([&] {
      client();
      done = true;
    });
    EXPECT_TRUE(test::run_until(
        &loop_, [&] { return done.load(); }, 30000));
    thread.join();
  }

  TempDir dir_{"belay-ctl-"};
  uv_loop_t loop_{};
  std::string path_;
  std::unique_ptr<control::ControlServer> server_;
};

TEST(BadControlRequest, EveryMalformedRequestIsAProtocolErrorNamingWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not JSON"},
      {"[1]", "not a JSON object"},
      {R"({"id":1})", "`op` is missing"},
      {R"({"id":1,"op":7})", "`op` is missing"},
      {R"({"id":1,"op":"explode"})", "unknown op 'explode'"},
      {R"({"id":1,"op":"eval"})", "`text` must be a string"},
      {R"({"id":1,"op":"eval","text":42})", "`text` must be a string"},
      {R"({"id":1.5,"op":"eval","text":"1"})", "`id` must be an integer or a string"},
      {R"({"id":[1],"op":"eval","text":"1"})", "`id` must be an integer or a string"},
      {"{\"id\":1,\"op\":\"eval\",\"text\":\"\xff\"}", "not JSON"},
  };
  for (const auto& [line, why] : cases) {
    SCOPED_TRACE(line);
    auto r = control::parse_request(line);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, Kind::protocol);
    EXPECT_THAT(r.error().message, ::testing::HasSubstr(why));
  }
}

TEST_F(BadControlMessage, WrongIdTypeGetsAnErrorWithANullIdAndTheConnectionStays) {
  with_client([&] {
    RawClient c(path_);
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.message().value_or(json()).value("hello", ""), "belay");
    c.send("{\"id\":{\"x\":1},\"op\":\"eval\",\"text\":\"1\"}\n");
    auto reply = c.message();
    ASSERT_TRUE(reply);
    EXPECT_TRUE((*reply)["id"].is_null()) << reply->dump();
    EXPECT_FALSE((*reply)["ok"].get<bool>());
    EXPECT_TRUE(starts_with((*reply)["error"].get<std::string>(), "protocol: ")) << reply->dump();
    c.send("{\"id\":\"s\",\"op\":\"eval\",\"text\":\"again\"}\n");
    auto echo = c.message();
    ASSERT_TRUE(echo);
    EXPECT_EQ((*echo)["id"], "s");
    EXPECT_EQ((*echo)["text"], "again");
  });
}

TEST_F(BadControlMessage, LineOverOneMebibyteDropsOnlyThatClient) {
  with_client([&] {
    RawClient greedy(path_);
    RawClient bystander(path_);
    ASSERT_TRUE(greedy.message());
    ASSERT_TRUE(bystander.message());
    greedy.send(std::string((1u << 20) + 100, 'x'));
    auto refusal = greedy.message();
    ASSERT_TRUE(refusal);
    EXPECT_EQ((*refusal)["error"], "protocol: a control message is longer than 1 MiB");
    EXPECT_FALSE(greedy.line().has_value()) << "the connection stayed open";
    bystander.send("{\"id\":1,\"op\":\"eval\",\"text\":\"still here\"}\n");
    auto echo = bystander.message();
    ASSERT_TRUE(echo);
    EXPECT_EQ((*echo)["text"], "still here");
  });
}

TEST_F(BadControlMessage, EvalWhileAChunkRunsIsAnErrorNotAQueue) {
  with_client([&] {
    RawClient c(path_);
    ASSERT_TRUE(c.message());
    c.send(
        "{\"id\":1,\"op\":\"eval\",\"text\":\"hold\"}\n{\"id\":2,\"op\":"
        "\"eval\",\"text\":\"2\"}\n");
    auto busy = c.message();
    ASSERT_TRUE(busy);
    EXPECT_EQ((*busy)["id"], 2);
    EXPECT_EQ((*busy)["error"], "script: the console is still running a chunk");
    c.send("{\"id\":1,\"op\":\"cancel\"}\n");
    auto cancelled = c.message();
    ASSERT_TRUE(cancelled);
    EXPECT_EQ((*cancelled)["id"], 1);
    EXPECT_FALSE((*cancelled)["ok"].get<bool>());
  });
}

// A script may print bytes that are not UTF-8 (string.char(255)); the
// reply stays JSON, with U+FFFD in their place.
TEST_F(BadControlMessage, InvalidUtf8InAReplyIsReplacedNotThrown) {
  with_client([&] {
    RawClient c(path_);
    ASSERT_TRUE(c.message());
    c.send("{\"id\":1,\"op\":\"eval\",\"text\":\"bytes\"}\n");
    auto reply = c.message();
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["text"], "\xef\xbf\xbd\xef\xbf\xbd ok") << reply->dump();
    c.send("{\"id\":2,\"op\":\"eval\",\"text\":\"a\\udcff\"}\n");  // a lone
                                                                   // surrogate
    auto refused = c.message();
    ASSERT_TRUE(refused);
    EXPECT_THAT((*refused)["error"].get<std::string>(), ::testing::HasSubstr("not JSON"));
  });
}

TEST(BadControlSocket, StaleSocketFileIsReplacedAndALiveOneIsRefused) {
  TempDir dir("belay-ctl-");
  const std::string path = dir.file("control.sock");
  ASSERT_TRUE(test::leave_stale_socket(path));  // a socket whose server is gone (a killed host)
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    // The attach side says what the stale file is.
    control::ControlClient client(&loop);
    auto e = client.connect(path, 2000);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->kind, Kind::config);
    EXPECT_THAT(e->message, ::testing::HasSubstr("is left from a run that is gone"));
  }
  {
    auto factory = [](std::function<void(std::string_view)>) {
      return std::make_unique<EchoSession>();
    };
    control::ControlServer first(&loop, factory);
    EXPECT_FALSE(first.listen(path).has_value()) << "the stale file was not replaced";
    control::ControlServer second(&loop, factory);
    auto refused = second.listen(path);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->kind, Kind::config);
    EXPECT_THAT(refused->message, ::testing::HasSubstr("another belay serves"));
    control::ControlServer third(&loop, factory);
    auto too_long = third.listen(dir.file(std::string(200, 'x')));
    ASSERT_TRUE(too_long.has_value());
    EXPECT_THAT(too_long->message, ::testing::HasSubstr("control socket path too long"));
  }
  EXPECT_EQ(test::drain_and_close(&loop), 0);
}

// --- CDP messages
// --------------------------------------------------------------------

using FakeTransport = test::FakeCdpTransport;
using test::FakeWsPeer;

class BadCdpMessage : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    auto t = std::make_unique<FakeTransport>();
    fake_ = t.get();
    connection_ = std::make_unique<cdp::Connection>(&loop_, std::move(t));
  }
  void TearDown() override {
    connection_.reset();
    EXPECT_EQ(test::drain_and_close(&loop_), 0);
  }
  uint64_t send(const std::string& method, std::optional<Result<json>>* out,
                const std::string& session = "") {
    return connection_->send(cdp::Command{method, json::object(), session, 30000, ""},
                             [out](Result<json> r) { *out = std::move(r); });
  }

  uv_loop_t loop_{};
  FakeTransport* fake_ = nullptr;
  std::unique_ptr<cdp::Connection> connection_;
};

TEST_F(BadCdpMessage, ReplyWhoseResultIsNotAnObjectFailsItsCommandAsProtocol) {
  for (const char* result : {"5", "\"text\"", "[1,2]", "null", "true"}) {
    SCOPED_TRACE(result);
    std::optional<Result<json>> out;
    const uint64_t id = send("Page.navigate", &out);
    fake_->deliver("{\"id\":" + std::to_string(id) + ",\"result\":" + result + "}");
    ASSERT_TRUE(out.has_value());
    ASSERT_FALSE(out->ok());
    EXPECT_EQ(out->error().kind, Kind::protocol);
    EXPECT_EQ(out->error().op, "Page.navigate");
    EXPECT_THAT(out->error().message, ::testing::HasSubstr("not an object"));
  }
}

TEST_F(BadCdpMessage, SessionEventsWithWrongTypesAreNotACrash) {
  std::optional<Result<json>> on_s;
  send("Runtime.evaluate", &on_s, "S");
  for (const char* event : {
           R"({"method":"Target.detachedFromTarget","params":{"sessionId":5}})",
           R"({"method":"Target.detachedFromTarget","params":"S"})",
           R"({"method":"Target.detachedFromTarget","params":{"sessionId":["S"]}})",
           R"({"method":"Inspector.targetCrashed","sessionId":7})",
           R"({"method":"Inspector.targetReloadedAfterCrash","sessionId":null})",
           R"({"method":"Page.lifecycleEvent","sessionId":"S","params":{"frameId":5}})",
       }) {
    fake_->deliver(event);
  }
  EXPECT_FALSE(on_s.has_value()) << "a malformed event ended session S";
  // A well-formed detach with a reason of the wrong type still ends it.
  fake_->deliver(R"({"method":"Inspector.detached","sessionId":"S","params":{"reason":42}})");
  ASSERT_TRUE(on_s.has_value());
  EXPECT_EQ(on_s->error().kind, Kind::target_closed);
  EXPECT_THAT(on_s->error().message, ::testing::HasSubstr("inspector detached: unknown"));
}

// The page reads frameId, loaderId and name of every lifecycle event; before
// the fix a number in any of them threw out of the loop (a crash).
TEST_F(BadCdpMessage, LifecycleEventWithWrongTypesIsDroppedByThePage) {
  browser::Page page(&loop_, *connection_, "T", "S");
  auto lifecycle = [](const json& params) {
    return json{{"method", "Page.lifecycleEvent"}, {"sessionId", "S"}, {"params", params}}.dump();
  };
  for (const json& params :
       {json{{"frameId", 5}, {"loaderId", "L"}, {"name", "load"}},
        json{{"frameId", "T"}, {"loaderId", json::array()}, {"name", "load"}},
        json{{"frameId", "T"}, {"loaderId", "L"}, {"name", json::object()}}, json(7)}) {
    fake_->deliver(lifecycle(params));
  }
  fake_->deliver(lifecycle({{"frameId", "T"}, {"loaderId", "L"}, {"name", "load"}}));
  EXPECT_EQ(connection_->protocol_errors(), 0u);
}

// What a WsTransport delivered to its sink.
struct RecordingSink final : cdp::Transport::Sink {
  void on_message(std::string_view m) override { messages.emplace_back(m); }
  void on_transport_error(const Error& e) override { errors.push_back(e); }
  void on_closed(const Error& why) override { closed = why; }
  std::vector<std::string> messages;
  std::vector<Error> errors;
  std::optional<Error> closed;
};

class BadWsPeer : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override { EXPECT_EQ(test::drain_and_close(&loop_), 0); }

  // Connects to `peer`; returns the connect outcome and runs until closed.
  std::optional<Error> connect_and_wait(FakeWsPeer& peer, RecordingSink& sink,
                                        cdp::WsOptions options = {}) {
    cdp::WsTransport transport(&loop_, options);
    transport.set_sink(&sink);
    std::optional<std::optional<Error>> connected;
    transport.connect(peer.url(), 5000, [&](std::optional<Error> e) { connected = std::move(e); });
    EXPECT_TRUE(test::run_until(
        &loop_, [&] { return connected.has_value(); }, 10000));
    if (connected && !*connected) {
      transport.send(R"({"id":1,"method":"Browser.getVersion"})");
      EXPECT_TRUE(test::run_until(
          &loop_, [&] { return sink.closed.has_value(); }, 10000));
    }
    if (transport.is_open()) transport.close();
    test::run_until(
        &loop_, [] { return false; }, 50);
    return connected ? *connected : Error{Kind::timeout, "no connect outcome", "", {}};
  }

  uv_loop_t loop_{};
};

TEST_F(BadWsPeer, OversizedFrameClosesTheConnectionNamingTheLimit) {
  FakeWsPeer peer(true, [](int fd) {
    FakeWsPeer::await_client(fd);
    // In one write, so that both reach belay in one read: the whole
    // message before the oversized one is still delivered.
    FakeWsPeer::write_all(fd, FakeWsPeer::text_frame(R"({"method":"A.b","params":{}})") +
                                  FakeWsPeer::text_frame(std::string(4096, 'x')));
    FakeWsPeer::drain(fd);
  });
  RecordingSink sink;
  cdp::WsOptions options;
  options.max_message_bytes = 1024;
  EXPECT_FALSE(connect_and_wait(peer, sink, options).has_value());
  ASSERT_EQ(sink.messages.size(), 1u);
  ASSERT_TRUE(sink.closed.has_value());
  EXPECT_EQ(sink.closed->kind, Kind::browser_disconnected);
  EXPECT_THAT(sink.closed->message, ::testing::HasSubstr("exceeded the 1024-byte limit"));
}

TEST_F(BadWsPeer, BrokenFramingClosesTheConnectionWithAnError) {
  FakeWsPeer peer(true, [](int fd) {
    FakeWsPeer::await_client(fd);
    // Opcode 0x3 is reserved, and the RSV bits are set: no WebSocket frame.
    FakeWsPeer::write_all(fd, std::string("\xf3\x05hello\xff\xff\xff\xff", 11));
    FakeWsPeer::drain(fd);
  });
  RecordingSink sink;
  EXPECT_FALSE(connect_and_wait(peer, sink).has_value());
  ASSERT_TRUE(sink.closed.has_value());
  EXPECT_TRUE(sink.messages.empty());
  EXPECT_FALSE(sink.closed->message.empty());
}

TEST_F(BadWsPeer, RefusedHandshakeIsAClearConnectError) {
  FakeWsPeer peer(false, [](int fd) {
    FakeWsPeer::write_all(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    FakeWsPeer::drain(fd);
  });
  RecordingSink sink;
  auto e = connect_and_wait(peer, sink);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, Kind::browser_disconnected);
  EXPECT_THAT(e->message, ::testing::HasSubstr("handshake"));
  EXPECT_THAT(e->message, ::testing::HasSubstr("HTTP 404"));
}

TEST_F(BadWsPeer, PeerThatNeverAnswersTheHandshakeTimesOut) {
  FakeWsPeer peer(false, [](int fd) { FakeWsPeer::drain(fd); });
  cdp::WsTransport transport(&loop_);
  std::optional<std::optional<Error>> connected;
  transport.connect(peer.url(), 300, [&](std::optional<Error> e) { connected = std::move(e); });
  ASSERT_TRUE(test::run_until(
      &loop_, [&] { return connected.has_value(); }, 10000));
  ASSERT_TRUE(connected->has_value());
  EXPECT_EQ((*connected)->kind, Kind::timeout);
  transport.close();
  test::run_until(
      &loop_, [] { return false; }, 50);
}

// --- state files
// ----------------------------------------------------------------------

TEST(BadStateFile, StateDbThatIsADirectoryIsRefused) {
  TempDir dir("belay-state-");
  fs::create_directories(dir.file("state/belay.db"));
  auto store = store::open_sqlite_store(dir.file("state"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, Kind::config);
  EXPECT_THAT(store.error().message,
              ::testing::HasSubstr("is not a belay state file (not a file)"));
}

TEST(BadStateFile, StateDirUnderAFileIsRefused) {
  TempDir dir("belay-state-");
  dir.write("plain", "x");
  auto store = store::open_sqlite_store(dir.file("plain/state"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, Kind::config);
  EXPECT_THAT(store.error().message,
              ::testing::HasSubstr(dir.file("plain/state/belay.db") + ": Not a directory"));
  EXPECT_EQ(test::file_bytes(dir.file("plain")), "x");
}

// A host killed while writing a line leaves it without its newline; the next
// run's first event must not be glued to it.
TEST(BadStateFile, EventsFileEndingInAPartialLineKeepsTheNextEventWhole) {
  TempDir dir("belay-state-");
  const std::string path = dir.write("events.jsonl", "{\"event\":\"item_ok\"}\n{\"ts\":\"2026-");
  {
    campaign::EventLog log(path, "c");
    ASSERT_TRUE(log.ok()) << log.error();
    log.write(campaign::Event{"run_start", "", "", "", json::object(), "", {}});
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "{\"ts\":\"2026-") << "the partial line was changed";
  const json last = json::parse(lines[2], nullptr, false);
  ASSERT_FALSE(last.is_discarded()) << lines[2];
  EXPECT_EQ(last["event"], "run_start");
}

// A full disk loses event lines, never the run: the observer (progress,
// the control socket) still hears every event, and stderr says it once.
TEST(BadStateFile, EventsFileOnAFullDiskLosesLinesNotTheRun) {
  campaign::EventLog log("/dev/full", "c");
  ASSERT_TRUE(log.ok()) << log.error();
  int observed = 0;
  log.on_event([&](const json&) { ++observed; });
  testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) log.write(campaign::Event{"item_ok", "p", "", "k", {}, "ok", {}});
  const std::string told = testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.lost(), 3u);
  EXPECT_EQ(observed, 3);
  EXPECT_THAT(told, ::testing::HasSubstr("cannot write /dev/full (No space left on device)"));
  EXPECT_EQ(told.find("cannot write", told.find("cannot write") + 1), std::string::npos) << told;
}

// A file-size limit cuts a line short, then refuses whole lines; once lines
// fit again, the next one starts on a line of its own and stderr says how
// many were lost.
TEST(BadStateFile, EventsFileWrittenAgainAfterLossesKeepsItsLinesWhole) {
  TempDir dir("belay-state-");
  const std::string path = dir.file("events.jsonl");
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::string told;
  {
    campaign::EventLog log(path, "c");
    ASSERT_TRUE(log.ok()) << log.error();
    testing::internal::CaptureStderr();
    log.write(campaign::Event{"run_start", "", "", "", {}, "", {}});
    rlimit small = old_limit;
    small.rlim_cur = static_cast<rlim_t>(fs::file_size(path) + 40);  // part of one more line
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int i = 0; i < 3; ++i) log.write(campaign::Event{"item_ok", "p", "", "k", {}, "ok", {}});
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    log.write(campaign::Event{"run_finish", "", "", "", {}, "", {}});
    told = testing::internal::GetCapturedStderr();
    EXPECT_EQ(log.lost(), 3u);
  }
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_THAT(told, ::testing::HasSubstr("cannot write " + path));
  EXPECT_THAT(told, ::testing::HasSubstr("is written again; 3 event(s) were lost before this one"));
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);  // run_start, the cut line, run_finish
  EXPECT_EQ(json::parse(lines[0])["event"], "run_start");
  EXPECT_EQ(lines[1].size(), 40u) << lines[1];
  const json last = json::parse(lines[2], nullptr, false);
  ASSERT_FALSE(last.is_discarded()) << lines[2];
  EXPECT_EQ(last["event"], "run_finish");
}

TEST(BadStateFile, EventsFileThatCannotBeOpenedIsAnError) {
  TempDir dir("belay-state-");
  fs::create_directories(dir.file("events.jsonl"));
  campaign::EventLog log(dir.file("events.jsonl"), "c");
  EXPECT_FALSE(log.ok());
  EXPECT_THAT(log.error(), ::testing::HasSubstr("cannot open " + dir.file("events.jsonl")));
}

}  // namespace
}  // namespace belay
