#include "support/lua_harness.hpp"

#include "api/belay.hpp"
#include "api/handles.hpp"
#include "support/chromium.hpp"
#include "support/run_loop.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/sandbox.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

namespace belay::test {

LuaHarness::LuaHarness(chrome::TransportKind transport, lua::Limits limits) {
  uv_loop_init(&loop_);
  char templ[] = "/tmp/belay-state-XXXXXX";
  state_dir_ = mkdtemp(templ);
  std::filesystem::create_directories(campaign_dir());
  runtime_ = std::make_unique<lua::Runtime>(&loop_, limits);
  runtime_->hooks().state_dir = state_dir_;
  runtime_->hooks().campaign_dir = campaign_dir();
  runtime_->hooks().log = [this](std::string_view level, std::string_view message) {
    logs_.emplace_back(level, message);
  };
  runtime_->hooks().event = [this](const std::string& name, const nlohmann::json& params) {
    events_.emplace_back(name, params);
  };
  lua::register_page(runtime_->main());
  lua::register_browser(runtime_->main());
  EXPECT_TRUE(lua::install_belay(*runtime_, {".", lua::bundled_scripts_dir()}));
  browser::BrowserSpec spec;
  spec.profile = "test";
  spec.launch = launch_options(transport);
  spec.downloads_dir = state_dir_ + "/downloads";
  session_ = std::make_shared<browser::BrowserSession>(&loop_, spec);
  std::optional<std::optional<Error>> ready;
  session_->start([&](std::optional<Error> e) { ready = std::move(e); });
  EXPECT_TRUE(run_until(
      &loop_, [&] { return ready.has_value(); }, 30000));
  EXPECT_TRUE(ready.has_value() && !ready->has_value())
      << (ready && *ready ? (*ready)->to_string() : "no answer");
  pid_ = session_->pid();
}

LuaHarness::~LuaHarness() {
  bool closed = false;
  session_->close([&] { closed = true; });
  run_until(
      &loop_, [&] { return closed; }, 10000);
  session_.reset();
  runtime_.reset();
  if (pid_ > 0) EXPECT_TRUE(group_gone(pid_)) << "browser group " << pid_ << " survived";
  EXPECT_EQ(drain_and_close(&loop_), 0) << "a libuv handle leaked";
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
}

void LuaHarness::start_snippet(const std::string& body,
                               std::optional<Result<nlohmann::json>>* out) {
  lua_State* task = runtime_->new_task();
  const std::string source = "return function(page, browser, fixture)\n" + body + "\nend";
  lua::ResumeResult top = runtime_->state().run_top_level(task, source, "=snippet");
  if (top.status != lua::ResumeStatus::finished) {
    *out = lua::to_error(task, -1);
    runtime_->state().end_task(task);
    return;
  }
  lua_State* L = task;
  lua_settop(L, lua_gettop(L) - top.nresults + 1);  // the function
  runtime_->state().end_task(task);
  lua_State* run = runtime_->new_task();
  lua_xmove(L, run, 1);
  if (session_->current_page()) {
    lua::push_page(run, session_->current_page(), session_);
  } else {
    lua_pushnil(run);
  }
  lua::push_browser(run, session_);
  const std::string base = fixture_.url("/");
  lua_pushlstring(run, base.data(), base.size());
  runtime_->start(run, 3, [out](lua_State* t, const lua::ResumeResult& r) {
    if (r.status == lua::ResumeStatus::error) {
      *out = lua::to_error(t, -1);
    } else if (r.nresults == 0) {
      *out = nlohmann::json(nullptr);
    } else {
      *out = lua::to_json(t, -r.nresults);
    }
  });
}

Result<nlohmann::json> LuaHarness::run(const std::string& body, uint64_t timeout_ms) {
  return run_all({body}, timeout_ms).front();
}

std::vector<Result<nlohmann::json>> LuaHarness::run_all(const std::vector<std::string>& bodies,
                                                        uint64_t timeout_ms) {
  std::vector<std::optional<Result<nlohmann::json>>> outs(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) start_snippet(bodies[i], &outs[i]);
  const bool finished = run_until(
      &loop_,
      [&] {
        for (const auto& o : outs) {
          if (!o) return false;
        }
        return true;
      },
      timeout_ms);
  std::vector<Result<nlohmann::json>> results;
  bool disconnected = false;
  for (auto& o : outs) {
    results.push_back(o ? std::move(*o)
                        : Result<nlohmann::json>(Error{Kind::timeout, "test gave up", "test", {}}));
    if (!results.back().ok() && results.back().error().kind == Kind::browser_disconnected) {
      disconnected = true;
    }
  }
  EXPECT_TRUE(finished);
  if (disconnected) say_how_the_browser_ended();
  return results;
}

// A test that did not end the browser itself and sees browser_disconnected
// has met a Chromium crash or a transport bug: which one is in how the
// process ended and what it wrote last. Printed, not asserted: the crash
// tests end it on purpose.
void LuaHarness::say_how_the_browser_ended() {
  browser::Browser* browser = session_->browser();
  chrome::ChromeProcess* process = browser != nullptr ? browser->process() : nullptr;
  if (process == nullptr) return;
  run_until(
      &loop_, [&] { return process->exit_info().has_value(); }, 3000);
  std::string how = "still running";
  if (const auto& exit = process->exit_info()) {
    how = chrome::browser_exited(static_cast<int>(exit->exit_status), exit->term_signal).message;
  }
  std::cerr << "[harness] the browser (pid " << pid_ << ") disconnected; its process: " << how
            << "; the last of its stderr:\n"
            << process->stderr_tail() << "\n[harness] end of the browser's stderr\n";
}

namespace {

// LuaTest's shared harnesses, one per transport (indexed by TransportKind).
std::unique_ptr<LuaHarness> shared_harnesses[2];

}  // namespace

LuaHarness& LuaTest::h() {
  auto& slot = shared_harnesses[static_cast<size_t>(transport())];
  if (!slot) slot = std::make_unique<LuaHarness>(transport(), limits());
  return *slot;
}

void LuaTest::TearDownTestSuite() {
  for (auto& slot : shared_harnesses) slot.reset();
}

std::string transport_test_name(const ::testing::TestParamInfo<chrome::TransportKind>& info) {
  return info.param == chrome::TransportKind::pipe ? "pipe" : "ws";
}

}  // namespace belay::test
