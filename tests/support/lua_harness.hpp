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

#include "browser/browser_session.hpp"
#include "core/error.hpp"
#include "vm/runtime.hpp"
#include "support/fixture_server.hpp"

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
  BackgroundFixtureServer& fixture() { return fixture_; }
  const std::vector<std::pair<std::string, std::string>>& logs() const { return logs_; }
  const std::vector<std::pair<std::string, nlohmann::json>>& events() const { return events_; }
  const std::string& screenshots_dir() const { return screenshots_dir_; }

 private:
  void start_snippet(const std::string& body, std::optional<Result<nlohmann::json>>* out);

  uv_loop_t loop_{};
  BackgroundFixtureServer fixture_;
  std::string screenshots_dir_;
  std::unique_ptr<lua::Runtime> runtime_;
  std::shared_ptr<browser::BrowserSession> session_;
  pid_t pid_ = 0;
  std::vector<std::pair<std::string, std::string>> logs_;
  std::vector<std::pair<std::string, nlohmann::json>> events_;
};

}  // namespace belay::test
