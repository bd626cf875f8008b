// The instruction and memory quotas of LuaState (DESIGN.md "Hot reload and
// sandbox"): a runaway script is stopped with a `sandbox` error, the state
// stays usable, a script that yields is not mistaken for a runaway, and the
// top level of a chunk gets a smaller budget than a slice.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "vm/error_value.hpp"
#include "vm/lua_state.hpp"
#include "vm/sandbox.hpp"

namespace {

using belay::Kind;
using belay::lua::Limits;
using belay::lua::LuaState;
using belay::lua::ResumeResult;
using belay::lua::ResumeStatus;

constexpr uint64_t kSlice = 20'000'000;

Limits small_limits() {
  Limits limits;
  limits.memory_bytes = 16u << 20;
  limits.slice_instructions = kSlice;
  limits.top_level_instructions = 200'000;
  return limits;
}

// What a binding does when it waits for the browser.
int host_wait(lua_State* L) { return lua_yield(L, 0); }

class LuaQuota : public ::testing::Test {
 protected:
  void SetUp() override {
    lua_pushcfunction(lua_.main(), host_wait);
    belay::lua::add_sandbox_global(lua_.main(), "host_wait");
  }

  lua_State* start(std::string_view code) {
    lua_State* task = lua_.new_task();
    EXPECT_EQ(belay::lua::load_sandboxed(task, code, "=quota"), LUA_OK);
    return task;
  }

  // Runs `code` as one task, resuming it from this "loop" after every yield.
  ResumeResult run_to_end(lua_State* task, int* slices = nullptr) {
    ResumeResult result = lua_.resume(task, 0);
    for (int count = 1;; ++count) {
      if (slices != nullptr) *slices = count;
      if (result.status != ResumeStatus::yielded) return result;
      total_instructions_ += lua_.instructions_used(task);
      result = lua_.resume(task, 0);
    }
  }

  belay::Error run_expecting_error(std::string_view code) {
    lua_State* task = start(code);
    const ResumeResult result = run_to_end(task);
    EXPECT_EQ(result.status, ResumeStatus::error);
    belay::Error error = belay::lua::to_error(task, -1);
    lua_.end_task(task);
    return error;
  }

  std::string run_expecting_result(std::string_view code) {
    lua_State* task = start(code);
    const ResumeResult result = run_to_end(task);
    std::string text;
    if (result.status == ResumeStatus::finished && result.nresults > 0) {
      text = lua_tostring(task, -result.nresults);
    } else if (result.status == ResumeStatus::error) {
      text = belay::lua::to_error(task, -1).to_string();
    }
    lua_.end_task(task);
    return text;
  }

  size_t collected_bytes() {
    lua_gc(lua_.main(), LUA_GCCOLLECT);
    return lua_.bytes_in_use();
  }

  LuaState lua_{small_limits()};
  uint64_t total_instructions_ = 0;
};

TEST_F(LuaQuota, InfiniteLoopIsStoppedWithASandboxError) {
  lua_State* task = start("while true do end");
  ASSERT_EQ(lua_.resume(task, 0).status, ResumeStatus::error);
  const belay::Error error = belay::lua::to_error(task, -1);
  EXPECT_EQ(error.kind, Kind::sandbox);
  EXPECT_EQ(error.message.rfind("instruction quota exceeded: script ran ", 0), 0u) << error.message;
  EXPECT_THAT(error.message, ::testing::HasSubstr("instructions without yielding"));
  EXPECT_GT(lua_.instructions_used(task), kSlice);
  EXPECT_LT(lua_.instructions_used(task), kSlice + 2 * 1000);
  EXPECT_TRUE(lua_.tripped(task));
  lua_.end_task(task);
}

TEST_F(LuaQuota, MemoryBombIsStopped) {
  const belay::Error error =
      run_expecting_error("local t = {} while true do t[#t + 1] = ('x'):rep(4096) .. #t end");
  EXPECT_EQ(error.kind, Kind::sandbox);
  EXPECT_EQ(error.message, "memory quota exceeded: " + std::to_string(16u << 20) + " bytes cap");
  EXPECT_LE(lua_.bytes_in_use(), (16u << 20) + (1u << 20));
}

TEST_F(LuaQuota, StateIsUsableAfterAMemoryTrippedTaskEnds) {
  const size_t baseline = collected_bytes();
  run_expecting_error("local t = {} while true do t[#t + 1] = ('x'):rep(4096) .. #t end");
  EXPECT_LT(collected_bytes(), baseline + (256u << 10)) << "memory not returned";
  EXPECT_EQ(run_expecting_result("local t = {} for i = 1, 1000 do t[i] = ('y'):rep(100) end "
                                 "return #t"),
            "1000");
}

TEST_F(LuaQuota, StateIsUsableAfterAnInstructionTrippedTaskEnds) {
  run_expecting_error("while true do end");
  EXPECT_EQ(run_expecting_result("local n = 0 for i = 1, 10000 do n = n + i end return n"),
            "50005000");
}

TEST_F(LuaQuota, OtherTasksGoOnWhenOneTrips) {
  lua_State* waiting = start("host_wait() return 'still here'");
  ASSERT_EQ(lua_.resume(waiting, 0).status, ResumeStatus::yielded);
  EXPECT_EQ(run_expecting_error("while true do end").kind, Kind::sandbox);
  const ResumeResult resumed = lua_.resume(waiting, 0);
  ASSERT_EQ(resumed.status, ResumeStatus::finished);
  EXPECT_STREQ(lua_tostring(waiting, -1), "still here");
  lua_.end_task(waiting);
}

TEST_F(LuaQuota, YieldingTaskRunsFarMoreThanOneSlice) {
  lua_State* task = start(R"lua(
    local n = 0
    for i = 1, 1.6e7 do
      n = n + i
      if i % 100000 == 0 then host_wait() end
    end
    return "done")lua");
  int slices = 0;
  const ResumeResult result = run_to_end(task, &slices);
  ASSERT_EQ(result.status, ResumeStatus::finished) << belay::lua::to_error(task, -1).to_string();
  EXPECT_STREQ(lua_tostring(task, -1), "done");
  EXPECT_GT(slices, 100);
  EXPECT_GT(total_instructions_, 3 * kSlice) << "did not run past one slice";
  lua_.end_task(task);
}

TEST_F(LuaQuota, NestedResumeDoesNotResetTheBudget) {
  const belay::Error error = run_expecting_error(R"lua(
    local co = coroutine.wrap(function() while true do coroutine.yield() end end)
    while true do co() end)lua");
  EXPECT_EQ(error.kind, Kind::sandbox);
  EXPECT_THAT(error.message, ::testing::HasSubstr("instruction quota exceeded"));
}

TEST_F(LuaQuota, TopLevelBudgetIsSmallerThanASlice) {
  constexpr std::string_view kWork = "local n = 0 for i = 1, 500000 do n = n + i end return n";
  lua_State* top = lua_.new_task();
  const ResumeResult at_top = lua_.run_top_level(top, kWork, "=top");
  ASSERT_EQ(at_top.status, ResumeStatus::error);
  EXPECT_THAT(belay::lua::to_error(top, -1).message,
              ::testing::HasSubstr("instruction quota exceeded"));
  EXPECT_LE(lua_.instructions_used(top), small_limits().top_level_instructions + 2 * 1000);
  lua_.end_task(top);
  EXPECT_EQ(run_expecting_result(kWork), "125000250000");
}

TEST_F(LuaQuota, SyntaxErrorAtTopLevelIsAScriptErrorWithItsLine) {
  lua_State* task = lua_.new_task();
  ASSERT_EQ(lua_.run_top_level(task, "local x = 1\nreturn x +", "=campaign.lua").status,
            ResumeStatus::error);
  const belay::Error error = belay::lua::to_error(task, -1);
  EXPECT_EQ(error.kind, Kind::script);
  EXPECT_EQ(error.message.rfind("campaign.lua:2:", 0), 0u) << error.message;
  lua_.end_task(task);
}

TEST_F(LuaQuota, ScriptCoroutinesInheritTheQuotaHook) {
  lua_State* raw = lua_newthread(lua_.main());  // what coroutine.create does
  EXPECT_NE(lua_gethook(raw), nullptr);
  EXPECT_TRUE(lua_gethookmask(raw) & LUA_MASKCOUNT);
  lua_pop(lua_.main(), 1);
  lua_State* task = start("return coroutine.create(function() end)");
  ASSERT_EQ(lua_.resume(task, 0).status, ResumeStatus::finished);
  lua_State* co = lua_tothread(task, -1);
  ASSERT_NE(co, nullptr);
  EXPECT_EQ(lua_gethook(co), lua_gethook(task));
  EXPECT_TRUE(lua_gethookmask(co) & LUA_MASKCOUNT);
  lua_.end_task(task);
}

TEST_F(LuaQuota, GarbageAloneDoesNotTripTheMemoryQuota) {
  // 9 MB stay live against a 16 MB cap (so Lua's own pacing, which waits
  // for twice the live size, collects too late) while 60 MB of garbage go
  // through between two hook calls: Lua's emergency collection at the cap
  // must be let to clear the garbage before the task is blamed.
  EXPECT_EQ(run_expecting_result(R"lua(
    local live = {}
    for i = 1, 2200 do live[i] = ('l'):rep(4000) .. i end
    local big = ('x'):rep(100000)
    for i = 1, 600 do local garbage = big .. i end
    return "fine")lua"),
            "fine");
}

TEST_F(LuaQuota, GarbageNearTheCapDoesNotFailBufferAllocations) {
  // string.rep's buffer gets no emergency collection from Lua; the hook
  // collects on the way in once memory is high.
  EXPECT_EQ(run_expecting_result(R"lua(
    local live = {}
    for i = 1, 2200 do live[i] = ('l'):rep(4000) .. i end
    for round = 1, 40 do
      local churn = {}
      for i = 1, 1000 do churn[i] = ('z'):rep(4000) .. i end
      host_wait()
    end
    return "fine")lua"),
            "fine");
}

TEST_F(LuaQuota, LargeLiveDataUnderTheCapIsFine) {
  EXPECT_EQ(run_expecting_result(R"lua(
    local keep = {}
    for i = 1, 2000 do keep[i] = ('w'):rep(4000) .. i end
    return #keep)lua"),
            "2000");
}

TEST_F(LuaQuota, ChargedCWorkCountsAgainstTheSlice) {
  lua_State* task = start("local t = {} table.move(t, 1, 1000000, 2) return 'moved'");
  ASSERT_EQ(lua_.resume(task, 0).status, ResumeStatus::finished);
  EXPECT_GE(lua_.instructions_used(task), 1'000'000u);
  lua_.end_task(task);
}

}  // namespace
