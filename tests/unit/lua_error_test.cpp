// The Lua error table (DESIGN.md "Error kinds"): fields, tostring, the
// belay.error binding, and the round trip to belay::Error.

#include <gtest/gtest.h>

#include <string>

#include "api/error.hpp"
#include "vm/error_value.hpp"
#include "vm/lua_state.hpp"
#include "vm/readonly.hpp"
#include "vm/sandbox.hpp"

namespace {

using belay::Kind;
using belay::lua::LuaState;
using belay::lua::ResumeStatus;

class LuaError : public ::testing::Test {
 protected:
  void SetUp() override {
    lua_State* L = lua_.main();
    lua_newtable(L);
    lua_pushcfunction(L, belay::lua::l_belay_error);
    lua_setfield(L, -2, "error");
    belay::lua::push_readonly(L, -1, "belay");
    belay::lua::add_sandbox_global(L, "belay");
    lua_pop(L, 1);
  }

  std::string field(int idx, const char* name) {
    lua_getfield(L_, idx, name);
    std::string text = lua_isstring(L_, -1) ? lua_tostring(L_, -1) : luaL_typename(L_, -1);
    lua_pop(L_, 1);
    return text;
  }

  // Runs `code` as a task; returns the error table as the host sees it.
  belay::Error task_error(std::string_view code) {
    lua_State* task = lua_.new_task();
    EXPECT_EQ(belay::lua::load_sandboxed(task, code, "=script.lua"), LUA_OK);
    EXPECT_EQ(lua_.resume(task, 0).status, ResumeStatus::error);
    EXPECT_TRUE(belay::lua::is_error(task, -1));
    belay::Error error = belay::lua::to_error(task, -1);
    lua_.end_task(task);
    return error;
  }

  std::string task_result(std::string_view code) {
    lua_State* task = lua_.new_task();
    EXPECT_EQ(belay::lua::load_sandboxed(task, code, "=script.lua"), LUA_OK);
    const auto result = lua_.resume(task, 0);
    std::string text = result.status == ResumeStatus::finished && result.nresults > 0
                           ? lua_tostring(task, -result.nresults)
                           : belay::lua::to_error(task, -1).to_string();
    lua_.end_task(task);
    return text;
  }

  LuaState lua_;
  lua_State* L_ = lua_.main();
};

belay::Error sample_error() {
  belay::Error error;
  error.kind = Kind::timeout;
  error.message = "waited 5000 ms for #sent";
  error.op = "page:wait_for";
  error.cdp = {{"code", -32000},
               {"message", "Execution context was destroyed."},
               {"data", {{"frames", {1, 2, 3}}, {"fatal", false}, {"ratio", 0.5}}}};
  return error;
}

TEST_F(LuaError, PushErrorSetsEveryField) {
  belay::lua::push_error(L_, sample_error());
  ASSERT_TRUE(belay::lua::is_error(L_, -1));
  EXPECT_EQ(field(-1, "kind"), "timeout");
  EXPECT_EQ(field(-1, "message"), "waited 5000 ms for #sent");
  EXPECT_EQ(field(-1, "op"), "page:wait_for");
  lua_getfield(L_, -1, "retryable");
  EXPECT_TRUE(lua_isboolean(L_, -1) && lua_toboolean(L_, -1));
  lua_pop(L_, 1);
  lua_getfield(L_, -1, "cdp");
  ASSERT_TRUE(lua_istable(L_, -1));
  EXPECT_EQ(field(-1, "code"), "-32000");
  EXPECT_EQ(field(-1, "message"), "Execution context was destroyed.");
  lua_getfield(L_, -1, "data");
  lua_getfield(L_, -1, "frames");
  EXPECT_EQ(luaL_len(L_, -1), 3);
  lua_pop(L_, 4);
}

TEST_F(LuaError, PushErrorLeavesCdpNilWhenThereIsNone) {
  belay::Error error;
  error.kind = Kind::not_found;
  error.message = "no #missing";
  belay::lua::push_error(L_, error);
  EXPECT_EQ(field(-1, "cdp"), "nil");
  EXPECT_EQ(field(-1, "op"), "");
  lua_getfield(L_, -1, "retryable");
  EXPECT_TRUE(lua_isboolean(L_, -1) && !lua_toboolean(L_, -1));
  lua_pop(L_, 2);
}

TEST_F(LuaError, TostringGivesKindMessageAndOp) {
  belay::lua::push_error(L_, sample_error());
  EXPECT_STREQ(luaL_tolstring(L_, -1, nullptr),
               "timeout: waited 5000 ms for #sent (page:wait_for)");
  EXPECT_EQ(sample_error().to_string(), lua_tostring(L_, -1));
  lua_pop(L_, 2);
}

TEST_F(LuaError, TostringOmitsAnEmptyOp) {
  belay::lua::push_plain_error(L_, Kind::cancelled, "circuit open");
  EXPECT_STREQ(luaL_tolstring(L_, -1, nullptr), "cancelled: circuit open");
  lua_pop(L_, 2);
}

TEST_F(LuaError, TablesShareOneLockedMetatable) {
  belay::lua::push_plain_error(L_, Kind::timeout, "a");
  belay::lua::push_plain_error(L_, Kind::protocol, "b");
  ASSERT_TRUE(lua_getmetatable(L_, -1));
  ASSERT_TRUE(lua_getmetatable(L_, -3));
  EXPECT_TRUE(lua_rawequal(L_, -1, -2));
  EXPECT_EQ(field(-1, "__name"), "belay.error");
  lua_pop(L_, 4);
  EXPECT_EQ(task_result("local _, e = pcall(belay.error, 'timeout', 'x') return getmetatable(e)"),
            "locked");
}

TEST_F(LuaError, BelayErrorRaisesATableWithKindAndMessage) {
  EXPECT_EQ(task_result(R"lua(
    local ok, e = pcall(belay.error, "navigation_failed", "net::ERR_NAME_NOT_RESOLVED")
    return table.concat({tostring(ok), e.kind, e.message, tostring(e.retryable)}, "|"))lua"),
            "false|navigation_failed|net::ERR_NAME_NOT_RESOLVED|true");
}

TEST_F(LuaError, BelayErrorRecordsTheCallerPositionAsOp) {
  const belay::Error error = task_error("\nbelay.error('not_found', 'no #send button')");
  EXPECT_EQ(error.kind, Kind::not_found);
  EXPECT_EQ(error.message, "no #send button");
  EXPECT_EQ(error.op, "script.lua:2");
}

TEST_F(LuaError, BelayErrorWithAnUnknownKindIsAScriptError) {
  const belay::Error error = task_error("belay.error('flaky', 'whatever')");
  EXPECT_EQ(error.kind, Kind::script);
  EXPECT_EQ(error.message, "unknown error kind 'flaky'");
  EXPECT_EQ(error.op, "script.lua:1");
}

TEST_F(LuaError, ToErrorRoundTripsPushError) {
  const belay::Error original = sample_error();
  belay::lua::push_error(L_, original);
  const belay::Error back = belay::lua::to_error(L_, -1);
  lua_pop(L_, 1);
  EXPECT_EQ(back.kind, original.kind);
  EXPECT_EQ(back.message, original.message);
  EXPECT_EQ(back.op, original.op);
  EXPECT_EQ(back.cdp, original.cdp);
}

TEST_F(LuaError, PlainErrorStringBecomesAScriptErrorWithItsPosition) {
  const belay::Error error = task_error("local x = 1\nerror('boom')");
  EXPECT_EQ(error.kind, Kind::script);
  EXPECT_EQ(error.message, "script.lua:2: boom");
}

TEST_F(LuaError, NonStringErrorValuesAreDescribed) {
  EXPECT_EQ(task_error("error(42)").message, "42");
  EXPECT_EQ(task_error("error({kind = 'timeout', message = 'forged'})").message,
            "(error object is a table value)");
  EXPECT_EQ(task_error("error({kind = 'timeout'})").kind, Kind::script);
  EXPECT_EQ(task_error("error()").message, "nil");
}

TEST_F(LuaError, IsErrorRejectsLookalikeTables) {
  lua_newtable(L_);
  lua_pushliteral(L_, "timeout");
  lua_setfield(L_, -2, "kind");
  EXPECT_FALSE(belay::lua::is_error(L_, -1));
  EXPECT_EQ(belay::lua::to_error(L_, -1).kind, Kind::script);
  lua_pop(L_, 1);
  lua_pushliteral(L_, "timeout: x");
  EXPECT_FALSE(belay::lua::is_error(L_, -1));
  lua_pop(L_, 1);
}

TEST_F(LuaError, ScribbledKindFallsBackToScript) {
  belay::lua::push_plain_error(L_, Kind::timeout, "x");
  lua_pushliteral(L_, "retry_me_forever");
  lua_setfield(L_, -2, "kind");
  EXPECT_EQ(belay::lua::to_error(L_, -1).kind, Kind::script);
  lua_pop(L_, 1);
}

class LuaErrorKind : public ::testing::TestWithParam<int> {};

TEST_P(LuaErrorKind, RetryableFollowsTheKindsTable) {
  const auto kind = static_cast<Kind>(GetParam());
  LuaState lua;
  lua_State* L = lua.main();
  belay::lua::push_plain_error(L, kind, "m");
  lua_getfield(L, -1, "retryable");
  EXPECT_EQ(lua_toboolean(L, -1) != 0, belay::retryable_by_default(kind)) << belay::kind_name(kind);
  lua_getfield(L, -2, "kind");
  EXPECT_EQ(lua_tostring(L, -1), belay::kind_name(kind));
  EXPECT_EQ(belay::lua::to_error(L, -3).kind, kind);
  lua_pop(L, 3);
}

INSTANTIATE_TEST_SUITE_P(LuaErrorKinds, LuaErrorKind, ::testing::Range(0, belay::kKindCount),
                         [](const auto& info) {
                           return std::string(belay::kind_name(static_cast<Kind>(info.param)));
                         });

TEST(LuaErrorKindTable, CoversThirteenKinds) {
  EXPECT_EQ(belay::kKindCount, 13);
  const char* retryable[] = {"context_destroyed", "target_closed",        "timeout",
                             "target_crashed",    "browser_disconnected", "navigation_failed"};
  for (const char* name : retryable) {
    EXPECT_TRUE(belay::retryable_by_default(*belay::kind_from_name(name))) << name;
  }
}

}  // namespace
