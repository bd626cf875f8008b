#pragma once
// Runs Lua snippets against a real Chromium, as a campaign's run() would:
// each snippet is the body of function(page, browser, fixture) run as a
// task of its own, with the whole belay API available.
//
//   LuaHarness h;                       // launches Chromium (pipe)
//   auto r = h.run("return page:title()");
//   auto e = h.run("page:wait_for('#nope', {timeout = 200})");
//   EXPECT_EQ(e.error().kind, Kind::not_found);
//
// `fixture` is the base URL of a fixture server started for the harness.
//
// A suite that runs over both transports derives from LuaTest and
// instantiates itself with BELAY_LUA_OVER_BOTH_TRANSPORTS; each test then runs
// twice, as Suite.Test/pipe and Suite.Test/ws:
//
//   class LuaPage : public LuaTest {};
//   BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaPage);
//   TEST_P(LuaPage, TitleIsTheDocumentTitle) { auto r = h().run("return page:title()"); }

#include "browser/browser_session.hpp"
#include "core/error.hpp"
#include "support/fixture_server.hpp"
#include "vm/runtime.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace belay::test {

// A snippet's result or error as text, for assertion messages.
inline std::string ok_text(const Result<nlohmann::json>& r) {
  return r.ok() ? r.value().dump() : r.error().to_string();
}

class LuaHarness {
 public:
  explicit LuaHarness(chrome::TransportKind transport = chrome::TransportKind::pipe,
                      lua::Limits limits = {});
  ~LuaHarness();

  // Runs `body` as function(page, browser, fixture); the result is the
  // snippet's first return value as JSON, or its error.
  Result<nlohmann::json> run(const std::string& body, uint64_t timeout_ms = 60000);
  // Starts several snippets at once; waits for all.
  std::vector<Result<nlohmann::json>> run_all(const std::vector<std::string>& bodies,
                                              uint64_t timeout_ms = 60000);

  uv_loop_t* loop() { return &loop_; }
  lua::Runtime& runtime() { return *runtime_; }
  browser::BrowserSession& session() { return *session_; }
  std::shared_ptr<browser::BrowserSession> shared_session() { return session_; }
  BackgroundFixtureServer& fixture() { return fixture_; }
  const std::vector<std::pair<std::string, std::string>>& logs() const { return logs_; }
  const std::vector<std::pair<std::string, nlohmann::json>>& events() const { return events_; }
  // A state dir of its own (removed with the harness), and a campaign
  // folder inside it: the folders scripts' files go to and come from.
  const std::string& state_dir() const { return state_dir_; }
  std::string screenshots_dir() const { return state_dir_ + "/screenshots"; }
  std::string campaign_dir() const { return state_dir_ + "/campaign"; }

 private:
  void start_snippet(const std::string& body, std::optional<Result<nlohmann::json>>* out);
  void say_how_the_browser_ended();

  uv_loop_t loop_{};
  BackgroundFixtureServer fixture_;
  std::string state_dir_;
  std::unique_ptr<lua::Runtime> runtime_;
  std::shared_ptr<browser::BrowserSession> session_;
  pid_t pid_ = 0;
  std::vector<std::pair<std::string, std::string>> logs_;
  std::vector<std::pair<std::string, nlohmann::json>> events_;
};

// A suite of Lua tests over the transport its parameter names. The suite's
// tests share one harness (one browser) per transport: launched by the first
// test that asks for it, closed when the suite ends.
class LuaTest : public ::testing::TestWithParam<chrome::TransportKind> {
 public:
  static void TearDownTestSuite();

 protected:
  chrome::TransportKind transport() const { return GetParam(); }
  // The suite's shared harness for this test's transport.
  LuaHarness& h();
  // The limits the suite's shared harnesses get.
  virtual lua::Limits limits() const { return {}; }
};

// "pipe" or "ws": the suffix a LuaTest's name gets for its transport.
std::string transport_test_name(const ::testing::TestParamInfo<chrome::TransportKind>& info);

}  // namespace belay::test

// Runs every TEST_P of `suite` (a LuaTest) over the pipe and over the WebSocket.
#define BELAY_LUA_OVER_BOTH_TRANSPORTS(suite)                                            \
  INSTANTIATE_TEST_SUITE_P(, suite,                                                      \
                           ::testing::Values(::belay::chrome::TransportKind::pipe,       \
                                             ::belay::chrome::TransportKind::websocket), \
                           ::belay::test::transport_test_name)
