// The supervisor policy: the bundled rules of scripts/belay/supervisor.lua
// (run in a plain Lua state: they are pure functions of facts and options)
// and the host's reading of any policy's decisions, where a malformed one is
// a `config` error naming the function that made it.

#include "campaign/supervisor_policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <lua.hpp>

#include <string>

namespace belay::campaign {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Calls belay.supervisor's `fn` with facts and options given as Lua
// source, and returns what it returned as Lua source-ish text.
class BundledPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    L = luaL_newstate();
    luaL_openlibs(L);
    const std::string path = std::string(BELAY_SOURCE_DIR) + "/scripts/belay/supervisor.lua";
    ASSERT_EQ(luaL_dofile(L, path.c_str()), LUA_OK) << lua_tostring(L, -1);
    lua_setglobal(L, "M");
    // A decision as text, fields sorted, so tests compare one string.
    const char* show = R"(
      function show(v)
        if type(v) ~= "table" then return tostring(v) end
        local keys = {}
        for k in pairs(v) do keys[#keys + 1] = k end
        table.sort(keys)
        local parts = {}
        for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. show(v[k]) end
        return "{" .. table.concat(parts, ",") .. "}"
      end)";
    ASSERT_EQ(luaL_dostring(L, show), LUA_OK);
  }
  void TearDown() override { lua_close(L); }

  std::string call(const std::string& fn, const std::string& facts, const std::string& options) {
    const std::string chunk = "return show(M." + fn + "(" + facts + ", " + options + "))";
    if (luaL_dostring(L, chunk.c_str()) != LUA_OK)
      return std::string("error: ") + lua_tostring(L, -1);
    std::string out = lua_tostring(L, -1);
    lua_pop(L, 1);
    return out;
  }

  lua_State* L = nullptr;
};

const char* kSupervisor = "{max_restarts = 3, period_ms = 1000, delay_ms = 100}";

TEST_F(BundledPolicy, RestartsAfterTheConfiguredDelayWhileUnderMaxRestarts) {
  EXPECT_EQ(call("after_death",
                 "{reason = 'disconnected', recent_restarts = {10, 500}, launch_failures = 0}",
                 kSupervisor),
            "{action=restart,delay_ms=100}");
}

TEST_F(BundledPolicy, IsFatalAtMaxRestartsWithinThePeriodNamingTheBudget) {
  EXPECT_EQ(
      call("after_death", "{reason = 'hung', recent_restarts = {1, 2, 999}, launch_failures = 0}",
           kSupervisor),
      "{action=fatal,reason=3 restarts within 1000 ms}");
}

TEST_F(BundledPolicy, ForgetsRestartsAPeriodOldOrOlder) {
  EXPECT_EQ(call("after_death",
                 "{reason = 'hung', recent_restarts = {1, 1000, 5000}, launch_failures = 0}",
                 kSupervisor),
            "{action=restart,delay_ms=100}");
}

TEST_F(BundledPolicy, NoRestartIsAllowedWhenMaxRestartsIsZero) {
  EXPECT_EQ(call("after_death", "{reason = 'hung', recent_restarts = {}, launch_failures = 0}",
                 "{max_restarts = 0, period_ms = 1000, delay_ms = 100}"),
            "{action=fatal,reason=0 restarts within 1000 ms}");
}

TEST_F(BundledPolicy, TheDelayDoublesWithEachFailedLaunchUpToSixteenTimes) {
  for (auto [failures, delay] : {std::pair{1, 200}, {2, 400}, {4, 1600}, {9, 1600}}) {
    EXPECT_EQ(call("after_death",
                   "{reason = 'launch failed', recent_restarts = {}, launch_failures = " +
                       std::to_string(failures) + "}",
                   kSupervisor),
              "{action=restart,delay_ms=" + std::to_string(delay) + "}");
  }
}

TEST_F(BundledPolicy, AScriptsRestartOfALiveBrowserDoesNotWait) {
  EXPECT_EQ(call("after_death", "{reason = 'script', recent_restarts = {}, launch_failures = 2}",
                 kSupervisor),
            "{action=restart,delay_ms=0}");
}

TEST_F(BundledPolicy, PausesOnlyPastMaxErrorStreak) {
  const char* pause = "{max_error_streak = 3, ms = 5000}";
  EXPECT_EQ(call("after_item", "{ok = false, error_streak = 3}", pause), "nil");
  EXPECT_EQ(call("after_item", "{ok = false, error_streak = 4}", pause),
            "{pause_ms=5000,reason=error_streak}");
}

TEST_F(BundledPolicy, SoftRestartsOnItemsThenAgeThenMemory) {
  const char* soft = "{items = 3, ms = 1000, memory_mb = 100}";
  EXPECT_EQ(call("between_items", "{items = 2, age_ms = 999, memory_mb = 99}", soft), "nil");
  EXPECT_EQ(call("between_items", "{items = 3, age_ms = 5000, memory_mb = 500}", soft),
            "{reason=items}");
  EXPECT_EQ(call("between_items", "{items = 0, age_ms = 1000, memory_mb = 500}", soft),
            "{reason=age}");
  EXPECT_EQ(call("between_items", "{items = 0, age_ms = 0, memory_mb = 100}", soft),
            "{detail={cap_mb=100},reason=memory}");
}

TEST_F(BundledPolicy, ZeroTurnsEachSoftRestartLimitOffAndNoReadingIsNoMemoryRestart) {
  const char* off = "{items = 0, ms = 0, memory_mb = 0}";
  EXPECT_EQ(call("between_items", "{items = 1000, age_ms = 1e9, memory_mb = 1e6}", off), "nil");
  EXPECT_EQ(call("between_items", "{items = 0, age_ms = 0}", "{items = 0, ms = 0, memory_mb = 10}"),
            "nil");
}

TEST_F(BundledPolicy, APauseThatRunsOutResumes) {
  EXPECT_EQ(call("pause_ended", "{error_streak = 4}", "{max_error_streak = 3, ms = 5000}"), "nil");
}

PolicyAnswer answer(json decision) {
  return PolicyAnswer{std::move(decision), "the campaign's supervisor (c.lua:3)"};
}

TEST(PolicyDecisions, ARestartAndAFatalVerdictAreRead) {
  auto restart = read_death_decision(answer({{"action", "restart"}, {"delay_ms", 2500}}));
  ASSERT_TRUE(restart) << restart.error().message;
  EXPECT_FALSE(restart.value().fatal);
  EXPECT_EQ(restart.value().delay_ms, 2500u);
  auto fatal = read_death_decision(answer({{"action", "fatal"}, {"reason", "2 deaths"}}));
  ASSERT_TRUE(fatal);
  EXPECT_TRUE(fatal.value().fatal);
  EXPECT_EQ(fatal.value().reason, "2 deaths");
}

TEST(PolicyDecisions, BadDeathDecisionsAreConfigErrorsNamingTheFunction) {
  const std::string who = "the campaign's supervisor (c.lua:3) returned a bad decision: ";
  struct Case {
    json decision;
    std::string message;
  };
  const Case cases[] = {
      {nullptr,
       "a browser death needs a decision: {action = \"restart\", delay_ms = N} or {action = "
       "\"fatal\", reason = \"…\"}"},
      {{{"action", "relaunch"}}, "action must be \"restart\" or \"fatal\", got \"relaunch\""},
      {{{"delay_ms", 5}}, "action must be \"restart\" or \"fatal\", got nothing"},
      {{{"action", "restart"}, {"delay", 5}},
       "unknown field 'delay' (known: action, delay_ms, reason)"},
      {{{"action", "restart"}, {"delay_ms", "5s"}}, "delay_ms must be a number of ms, got string"},
      {{{"action", "restart"}, {"delay_ms", -1}},
       "delay_ms must be between 0 and 31536000000 ms, got -1"},
      {{{"action", "fatal"}}, "a fatal decision needs a reason"},
      {json::array({1}), "expected a table or nil, got array"},
  };
  for (const auto& c : cases) {
    auto d = read_death_decision(answer(c.decision));
    ASSERT_FALSE(d) << c.decision.dump();
    EXPECT_EQ(d.error().kind, Kind::config);
    EXPECT_EQ(d.error().message, who + c.message) << c.decision.dump();
  }
}

TEST(PolicyDecisions, APauseIsReadWithItsDefaults) {
  auto none = read_pause_decision(answer(nullptr), "policy");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none.value());
  auto pause = read_pause_decision(answer({{"pause_ms", 60000}}), "policy");
  ASSERT_TRUE(pause && pause.value());
  EXPECT_EQ(pause.value()->ms, 60000u);
  EXPECT_EQ(pause.value()->reason, "policy");
  EXPECT_TRUE(pause.value()->close_browser);
  auto bad = read_pause_decision(answer({{"pause_ms", 1}, {"close_browser", "no"}}), "policy");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("close_browser must be true or false"));
  auto missing = read_pause_decision(answer({{"reason", "x"}}), "policy");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("pause_ms is missing"));
}

TEST(PolicyDecisions, ASoftRestartNeedsAReasonAndItsDetailIsATable) {
  auto ok = read_soft_restart_decision(answer({{"reason", "memory"}, {"detail", {{"mb", 3}}}}));
  ASSERT_TRUE(ok && ok.value());
  EXPECT_EQ(ok.value()->detail, (json{{"mb", 3}}));
  auto no_reason = read_soft_restart_decision(answer(json::object()));
  ASSERT_FALSE(no_reason);
  EXPECT_THAT(no_reason.error().message, HasSubstr("a soft restart needs a reason"));
  auto bad_detail = read_soft_restart_decision(answer({{"reason", "x"}, {"detail", 3}}));
  ASSERT_FALSE(bad_detail);
  EXPECT_THAT(bad_detail.error().message, HasSubstr("detail must be a table of named fields"));
}

}  // namespace
}  // namespace belay::campaign
