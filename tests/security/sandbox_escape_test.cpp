// Escape attempts against the script sandbox (DESIGN.md "Hot reload and
// sandbox"). Each test makes one attempt, checks that it is refused with a
// `sandbox` error naming what was refused, and checks that it left no trace;
// TearDown additionally checks, for every test, that a fresh script still
// sees pristine globals, a locked string metatable and a running GC, and
// that the host's own globals were not touched.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "api/error.hpp"
#include "vm/error_value.hpp"
#include "vm/lua_state.hpp"
#include "vm/readonly.hpp"
#include "vm/sandbox.hpp"

namespace {

using belay::Kind;
using belay::lua::Limits;
using belay::lua::LuaState;
using belay::lua::ResumeStatus;

Limits test_limits() {
  Limits limits;
  limits.memory_bytes = 8u << 20;
  limits.slice_instructions = 20'000'000;
  limits.top_level_instructions = 2'000'000;
  return limits;
}

// A hang is the failure most of these tests guard against: fail loudly
// instead of hanging the suite.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit)
      : thread_([this, limit] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "sandbox escape test hung: nothing stopped the script\n");
            std::_Exit(1);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

struct Outcome {
  ResumeStatus status = ResumeStatus::error;
  belay::Error error;
  std::string result;  // the first result, as text
};

std::string text_at(lua_State* L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      lua_pushvalue(L, idx);
      std::string text = lua_tostring(L, -1);
      lua_pop(L, 1);
      return text;
    }
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) ? "true" : "false";
    default:
      return luaL_typename(L, idx);
  }
}

int host_wait(lua_State* L) { return lua_yield(L, 0); }

class SandboxEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    lua_pushcfunction(lua_.main(), host_wait);
    belay::lua::add_sandbox_global(lua_.main(), "host_wait");
    host_globals_ = count_host_globals();
  }

  void TearDown() override {
    Outcome fresh = run(R"lua(
      assert(getmetatable("") == "locked", "string metatable unlocked")
      assert(("ab"):rep(2) == "abab" and string.rep("a", 3) == "aaa", "string.rep changed")
      assert(("x"):upper() == "X", "string methods changed")
      assert(not pcall(function() return string.dump end), "string.dump reachable")
      assert(not pcall(function() return io end), "io reachable")
      assert(pwned == nil, "a global leaked between environments")
      assert(type(print) == "function" and type(pcall) == "function", "globals missing")
      assert(type(table.insert) == "function" and type(os.time) == "function", "libraries changed")
      assert(getmetatable(_G) == "locked", "environment unlocked")
      return "pristine")lua");
    EXPECT_EQ(fresh.result, "pristine") << fresh.error.to_string();
    EXPECT_EQ(lua_gc(lua_.main(), LUA_GCISRUNNING), 1) << "the GC was stopped";
    EXPECT_EQ(count_host_globals(), host_globals_) << "the host's globals changed";
  }

  int count_host_globals() {
    lua_State* L = lua_.main();
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      ++count;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return count;
  }

  Outcome finish(lua_State* task, belay::lua::ResumeResult resumed) {
    Outcome outcome;
    outcome.status = resumed.status;
    if (resumed.status == ResumeStatus::error) {
      outcome.error = belay::lua::to_error(task, -1);
    } else if (resumed.nresults > 0) {
      outcome.result = text_at(task, -resumed.nresults);
    }
    return outcome;
  }

  Outcome run(std::string_view code) {
    lua_State* task = lua_.new_task();
    Outcome outcome;
    if (belay::lua::load_sandboxed(task, code, "=escape") != LUA_OK) {
      outcome.error = belay::lua::to_error(task, -1);
    } else {
      outcome = finish(task, lua_.resume(task, 0));
    }
    lua_.end_task(task);
    return outcome;
  }

  // Stages share one environment (their chunk's) but run as separate tasks,
  // as two items of one campaign would.
  void load_stages(std::string_view code) {
    lua_State* task = lua_.new_task();
    ASSERT_EQ(lua_.run_top_level(task, code, "=stages").status, ResumeStatus::finished);
    lua_xmove(task, lua_.main(), 1);
    stages_ = luaL_ref(lua_.main(), LUA_REGISTRYINDEX);
    lua_.end_task(task);
  }

  lua_State* start_stage(const char* name) {
    lua_State* task = lua_.new_task();
    lua_rawgeti(lua_.main(), LUA_REGISTRYINDEX, stages_);
    lua_getfield(lua_.main(), -1, name);
    lua_xmove(lua_.main(), task, 1);
    lua_pop(lua_.main(), 1);
    return task;
  }

  Outcome run_stage(const char* name) {
    lua_State* task = start_stage(name);
    Outcome outcome = finish(task, lua_.resume(task, 0));
    lua_.end_task(task);
    return outcome;
  }

  static void expect_refused(const Outcome& outcome, const std::string& what) {
    ASSERT_EQ(outcome.status, ResumeStatus::error) << "not refused; result: " << outcome.result;
    EXPECT_EQ(outcome.error.kind, Kind::sandbox) << outcome.error.to_string();
    EXPECT_NE(outcome.error.message.find(what), std::string::npos) << outcome.error.to_string();
  }

  static std::string temp_path(const char* name) {
    return (std::filesystem::path(::testing::TempDir()) /
            (std::string("belay-sandbox-") + std::to_string(::getpid()) + "-" + name))
        .string();
  }

  // Declared first, so it outlives the state: a finalizer that never ends
  // would hang in ~LuaState.
  Watchdog watchdog_{std::chrono::seconds(60)};
  LuaState lua_{test_limits()};
  int host_globals_ = 0;
  int stages_ = LUA_NOREF;
};

// --- Forbidden libraries and functions -----------------------------------------

TEST_F(SandboxEscape, OsExecuteIsRefused) {
  const std::string marker = temp_path("os-execute");
  expect_refused(run("os.execute('touch " + marker + "')"), "os.execute");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(SandboxEscape, IoOpenIsRefused) {
  const std::string path = temp_path("io-open");
  expect_refused(run("local f = io.open('" + path + "', 'w') f:write('x') f:close()"), "io");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(SandboxEscape, IoPopenIsRefused) {
  const std::string marker = temp_path("io-popen");
  expect_refused(run("io.popen('touch " + marker + "'):close()"), "io is not available");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(SandboxEscape, IoLinesIsRefused) {
  Outcome outcome = run("for line in io.lines('/etc/passwd') do error(line) end");
  expect_refused(outcome, "io is not available");
  EXPECT_EQ(outcome.error.message.find("root"), std::string::npos) << "file content leaked";
}

class SandboxRequire : public SandboxEscape, public ::testing::WithParamInterface<const char*> {};

TEST_P(SandboxRequire, OfCModuleIsRefused) {
  expect_refused(run(std::string("return require('") + GetParam() + "')"),
                 "require is not allowed");
  lua_getfield(lua_.main(), LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(lua_.main(), -1, GetParam());
  EXPECT_TRUE(lua_isnil(lua_.main(), -1)) << "the module was loaded";
  lua_pop(lua_.main(), 2);
}

INSTANTIATE_TEST_SUITE_P(SandboxRequire, SandboxRequire, ::testing::Values("lfs", "socket"),
                         [](const auto& info) { return std::string(info.param); });

TEST_F(SandboxEscape, PackageLoadlibIsRefused) {
  expect_refused(run("return package.loadlib('libc.so.6', 'system')('touch /tmp/x')"),
                 "package is not available");
}

TEST_F(SandboxEscape, PackageCpathModificationIsRefused) {
  expect_refused(run("package.cpath = '/tmp/?.so'"), "package is not available");
  lua_getfield(lua_.main(), LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(lua_.main(), -1, "package");
  EXPECT_TRUE(lua_isnil(lua_.main(), -1)) << "package library exists in the host";
  lua_pop(lua_.main(), 2);
}

TEST_F(SandboxEscape, DofileIsRefused) {
  expect_refused(run("return dofile('/etc/passwd')"), "dofile is not available");
}

TEST_F(SandboxEscape, LoadfileIsRefused) {
  expect_refused(run("return loadfile('/etc/passwd')"), "loadfile is not available");
}

TEST_F(SandboxEscape, CollectgarbageStopIsRefused) {
  expect_refused(run("collectgarbage('stop')"), "collectgarbage is not available");
  EXPECT_EQ(lua_gc(lua_.main(), LUA_GCISRUNNING), 1);
}

TEST_F(SandboxEscape, OsExitIsRefused) {
  expect_refused(run("os.exit(3)"), "os.exit");  // and we are still here
}

TEST_F(SandboxEscape, OsRemoveIsRefused) {
  const std::string path = temp_path("os-remove");
  std::ofstream(path) << "keep";
  expect_refused(run("os.remove('" + path + "')"), "os.remove");
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST_F(SandboxEscape, OsRenameIsRefused) {
  const std::string from = temp_path("os-rename-from");
  const std::string to = temp_path("os-rename-to");
  std::ofstream(from) << "keep";
  expect_refused(run("os.rename('" + from + "', '" + to + "')"), "os.rename");
  EXPECT_TRUE(std::filesystem::exists(from));
  EXPECT_FALSE(std::filesystem::exists(to));
  std::filesystem::remove(from);
}

TEST_F(SandboxEscape, OsGetenvIsRefused) {
  ::setenv("BELAY_SANDBOX_SECRET", "s3cret", 1);
  Outcome outcome = run("error(os.getenv('BELAY_SANDBOX_SECRET'))");
  expect_refused(outcome, "os.getenv");
  EXPECT_EQ(outcome.error.message.find("s3cret"), std::string::npos);
  EXPECT_STREQ(std::getenv("BELAY_SANDBOX_SECRET"), "s3cret");
}

TEST_F(SandboxEscape, OsTmpnameIsRefused) {
  expect_refused(run("return os.tmpname()"), "os.tmpname");
}

TEST_F(SandboxEscape, OsSetlocaleIsRefused) {
  expect_refused(run("return os.setlocale('C')"), "os.setlocale");
}

class SandboxDebug : public SandboxEscape, public ::testing::WithParamInterface<const char*> {};

TEST_P(SandboxDebug, EntryIsRefused) {
  expect_refused(run(std::string("return debug.") + GetParam() + "(1)"), "debug is not available");
  EXPECT_NE(lua_gethook(lua_.main()), nullptr) << "the quota hook was removed";
}

INSTANTIATE_TEST_SUITE_P(SandboxDebug, SandboxDebug,
                         ::testing::Values("getinfo", "getlocal", "setlocal", "getupvalue",
                                           "setupvalue", "sethook", "gethook", "getregistry",
                                           "getmetatable", "setmetatable", "upvalueid",
                                           "upvaluejoin", "setuservalue", "traceback"),
                         [](const auto& info) { return std::string(info.param); });

// --- Loading code ---------------------------------------------------------------

TEST_F(SandboxEscape, BinaryChunkViaLoadIsRefused) {
  expect_refused(run(R"lua(return load("\27Lua\84\0\25\147\13\10\26\10"))lua"), "binary chunks");
}

TEST_F(SandboxEscape, LoadWithModeBIsRefused) {
  expect_refused(run("return load('return 1', 'chunk', 'b')"), "binary chunks");
}

TEST_F(SandboxEscape, BinaryChunkFromAReaderIsRefused) {
  Outcome outcome = run(R"lua(
    local sent = false
    local f, message = load(function()
      if sent then return nil end
      sent = true
      return "\27Lua\84\0\25\147\13\10\26\10"
    end)
    return f == nil and message)lua");
  EXPECT_NE(outcome.result.find("binary chunk"), std::string::npos) << outcome.result;
}

TEST_F(SandboxEscape, BinarySourceFromTheHostIsRefused) {
  lua_State* task = lua_.new_task();
  ASSERT_NE(belay::lua::load_sandboxed(task, "\x1bLua\x54", "=bin"), LUA_OK);
  const belay::Error error = belay::lua::to_error(task, -1);
  EXPECT_EQ(error.kind, Kind::sandbox);
  EXPECT_NE(error.message.find("binary chunks"), std::string::npos);
  lua_.end_task(task);
}

TEST_F(SandboxEscape, StringDumpIsRefused) {
  expect_refused(run("return string.dump(function() end)"), "string.dump");
}

TEST_F(SandboxEscape, StringDumpAsMethodIsRefused) {
  expect_refused(run("return (''):dump()"), "string.dump");
}

TEST_F(SandboxEscape, LoadWithoutEnvGetsTheSandboxNotHostGlobals) {
  // The host's globals do have collectgarbage; the sandbox refuses it.
  expect_refused(run("return load('return collectgarbage')()"), "collectgarbage");
}

TEST_F(SandboxEscape, LoadWithAnEnvTableCannotReachHostGlobals) {
  expect_refused(run(R"lua(
    local env = setmetatable({}, {__index = _G})
    local f = load("return io.open('/etc/passwd')", "chunk", "t", env)
    return f())lua"),
                 "io is not available");
}

// --- Shared tables and metatables ------------------------------------------------------

TEST_F(SandboxEscape, StringMetatableIndexTamperingIsRefused) {
  expect_refused(run("getmetatable('').__index = function() return 'pwned' end"),
                 "string metatable is locked");
}

TEST_F(SandboxEscape, SetmetatableOnAStringIsRefused) {
  expect_refused(run("setmetatable('', {__index = function() return 'pwned' end})"),
                 "string metatable is locked");
}

TEST_F(SandboxEscape, StringRepAssignmentIsRefused) {
  expect_refused(run("string.rep = function() return 'pwned' end"),
                 "attempt to modify read-only table 'string'");
}

TEST_F(SandboxEscape, RawsetOnStringProxyIsRefused) {
  expect_refused(run("rawset(string, 'rep', function() return 'pwned' end)"),
                 "read-only table 'string'");
}

TEST_F(SandboxEscape, RawsetOnTableProxyIsRefused) {
  expect_refused(run("rawset(table, 'insert', function() pwned = true end)"),
                 "read-only table 'table'");
}

TEST_F(SandboxEscape, RawsetOnBelayProxyIsRefused) {
  lua_State* L = lua_.main();
  lua_newtable(L);
  lua_pushcfunction(L, belay::lua::l_belay_error);
  lua_setfield(L, -2, "error");
  belay::lua::push_readonly(L, -1, "belay");
  belay::lua::add_sandbox_global(L, "belay");
  lua_pop(L, 1);
  expect_refused(run("rawset(belay, 'error', print)"), "read-only table 'belay'");
  expect_refused(run("belay.error = print"), "read-only table 'belay'");
  Outcome still = run("return select(2, pcall(belay.error, 'timeout', 'x')).kind");
  EXPECT_EQ(still.result, "timeout");
}

TEST_F(SandboxEscape, PairsOnAProxyDoesNotHandOutTheOriginal) {
  expect_refused(run("local _, state = pairs(string) state.rep = nil"), "read-only table 'string'");
}

TEST_F(SandboxEscape, OsProxyAssignmentIsRefused) {
  expect_refused(run("os.time = function() return 0 end"), "read-only table 'os'");
}

TEST_F(SandboxEscape, SetmetatableOnGlobalsIsRefused) {
  expect_refused(run("setmetatable(_G, {__index = function() return 'pwned' end})"), "_G");
}

TEST_F(SandboxEscape, GetmetatableOfGlobalsIsLocked) {
  EXPECT_EQ(run("return getmetatable(_G)").result, "locked");
  expect_refused(run("getmetatable(_G).__index = nil"), "string metatable is locked");
}

TEST_F(SandboxEscape, GlobalWritesStayInTheirOwnEnvironment) {
  ASSERT_EQ(run("pwned = true print = nil string = nil _G.tostring = nil").status,
            ResumeStatus::finished);
  EXPECT_EQ(run("return type(print) .. type(string) .. type(tostring) .. type(pwned)").result,
            "functiontablefunctionnil");
}

// --- Quotas that pcall and coroutines must not swallow -----------------------------

TEST_F(SandboxEscape, PcallSwallowingTheInstructionQuotaIsRefused) {
  expect_refused(run("while true do pcall(function() while true do end end) end"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, XpcallSwallowingTheInstructionQuotaIsRefused) {
  Outcome outcome = run(R"lua(
    while true do
      xpcall(function() while true do end end, function(e) handled = true return e end)
    end)lua");
  expect_refused(outcome, "instruction quota exceeded");
  EXPECT_EQ(run("return handled").result, "nil");
}

TEST_F(SandboxEscape, PcallSwallowingTheMemoryQuotaIsRefused) {
  expect_refused(run(R"lua(
    while true do
      pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end)
    end)lua"),
                 "memory quota exceeded");
}

TEST_F(SandboxEscape, PcallSwallowingAStringRepMemoryBombIsRefused) {
  expect_refused(run("while true do pcall(string.rep, 'x', 1e9) end"), "memory quota exceeded");
}

TEST_F(SandboxEscape, CoroutineWrapDoesNotEscapeTheHook) {
  expect_refused(run("coroutine.wrap(function() while true do end end)()"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, CoroutineResumeDoesNotEscapeTheHook) {
  expect_refused(run(R"lua(
    while true do
      local co = coroutine.create(function() while true do end end)
      local ok, e = coroutine.resume(co)
    end)lua"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, NestedCoroutinesDoNotEscapeTheHook) {
  expect_refused(run(R"lua(
    local function nest(depth)
      if depth == 0 then while true do end end
      return coroutine.wrap(function() return pcall(nest, depth - 1) end)()
    end
    while true do pcall(nest, 5) end)lua"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, CoroutineCloseDoesNotSwallowTheQuota) {
  expect_refused(run(R"lua(
    local co = coroutine.create(function()
      local guard <close> = setmetatable({}, {__close = function() while true do end end})
      coroutine.yield()
    end)
    coroutine.resume(co)
    while true do coroutine.close(co) end)lua"),
                 "instruction quota exceeded");
}

// Lua leaves a coroutine killed from inside the hook with hooks off;
// coroutine.wrap's stock error path would then run its __close with no quota.
TEST_F(SandboxEscape, WrappedCloseHandlerAfterTheQuotaRunsNothing) {
  Outcome outcome = run(R"lua(
    coroutine.wrap(function()
      local guard <close> = setmetatable({}, {__close = function() while true do end end})
      while true do end
    end)())lua");
  expect_refused(outcome, "instruction quota exceeded");
}

TEST_F(SandboxEscape, ClosingAQuotaKilledCoroutineFromAnotherTaskRunsNothing) {
  load_stages(R"lua(
    return {
      kill = function()
        shared = coroutine.create(function()
          local guard <close> = setmetatable({}, {__close = function()
            closed = true
            while true do end
          end})
          while true do end
        end)
        coroutine.resume(shared)
      end,
      close = function()
        local ok, e = coroutine.close(shared)
        return tostring(ok) .. " " .. e.kind .. " " .. tostring(closed)
      end,
    })lua");
  expect_refused(run_stage("kill"), "instruction quota exceeded");
  EXPECT_EQ(run_stage("close").result, "false sandbox nil");
}

TEST_F(SandboxEscape, CallingAQuotaKilledWrapFromAnotherTaskRunsNothing) {
  load_stages(R"lua(
    return {
      kill = function()
        shared = coroutine.wrap(function()
          local guard <close> = setmetatable({}, {__close = function()
            closed = true
            while true do end
          end})
          while true do end
        end)
        shared()
      end,
      call = function()
        local ok, e = pcall(shared)
        return tostring(ok) .. " " .. tostring(e) .. " " .. tostring(closed)
      end,
    })lua");
  expect_refused(run_stage("kill"), "instruction quota exceeded");
  EXPECT_EQ(run_stage("call").result, "false cannot resume dead coroutine nil");
}

TEST_F(SandboxEscape, CoroutineFromAnotherTaskIsChargedToTheRunningTask) {
  load_stages(R"lua(
    return {
      make = function() shared = coroutine.create(function() while true do end end) end,
      run = function() return coroutine.resume(shared) end,
    })lua");
  ASSERT_EQ(run_stage("make").status, ResumeStatus::finished);
  expect_refused(run_stage("run"), "instruction quota exceeded");
}

TEST_F(SandboxEscape, AScriptCannotResumeAHostTask) {
  load_stages(R"lua(
    return {
      victim = function() victim = coroutine.running() host_wait() return "host resumed me" end,
      hijack = function() return coroutine.resume(victim, "forged reply") end,
      kill = function() return coroutine.close(victim) end,
    })lua");
  lua_State* victim = start_stage("victim");
  ASSERT_EQ(lua_.resume(victim, 0).status, ResumeStatus::yielded);
  expect_refused(run_stage("hijack"), "host task");
  expect_refused(run_stage("kill"), "host task");
  const auto resumed = lua_.resume(victim, 0);
  ASSERT_EQ(resumed.status, ResumeStatus::finished);
  EXPECT_EQ(text_at(victim, -1), "host resumed me");
  lua_.end_task(victim);
}

TEST_F(SandboxEscape, YieldFromTheTaskTopLevelIsRefused) {
  Outcome outcome = run("coroutine.yield('forged reply')");
  ASSERT_EQ(outcome.status, ResumeStatus::error);
  EXPECT_EQ(outcome.error.kind, Kind::script);
  EXPECT_NE(outcome.error.message.find("outside a coroutine"), std::string::npos);
}

// --- Error objects ------------------------------------------------------------------------

TEST_F(SandboxEscape, ErrorObjectWithGcIsRefused) {
  expect_refused(run("error(setmetatable({}, {__gc = function() while true do end end}))"),
                 "__gc metamethods are not allowed");
}

TEST_F(SandboxEscape, GcMarkerAddedBeforeTheFunctionIsRefused) {
  // Any __gc value marks the object; the function could be put in later.
  expect_refused(run(R"lua(
    local mt = {__gc = false}
    local victim = setmetatable({}, mt)
    mt.__gc = function() while true do end end)lua"),
                 "__gc metamethods are not allowed");
  lua_gc(lua_.main(), LUA_GCCOLLECT);
}

TEST_F(SandboxEscape, ErrorObjectTostringIsNeverRunByTheHost) {
  Outcome outcome = run(R"lua(
    error(setmetatable({}, {__tostring = function() while true do end end})))lua");
  ASSERT_EQ(outcome.status, ResumeStatus::error);
  EXPECT_EQ(outcome.error.kind, Kind::script);
  EXPECT_EQ(outcome.error.message, "(error object is a table value)");
}

TEST_F(SandboxEscape, ErrorObjectTostringLoopInTheScriptIsStopped) {
  expect_refused(run(R"lua(
    local e = setmetatable({}, {__tostring = function() while true do end end})
    local ok, caught = pcall(error, e)
    return tostring(caught))lua"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, StringFormatWithALoopingTostringIsStopped) {
  expect_refused(run(R"lua(
    return string.format("%s",
                         setmetatable({}, {__tostring = function() while true do end end})))lua"),
                 "instruction quota exceeded");
}

// --- Memory bombs and C loops no instruction count would see -------------------------------

TEST_F(SandboxEscape, StringRepMemoryBombIsStopped) {
  expect_refused(run("return ('x'):rep(1e9)"), "memory quota exceeded");
}

// Past Lua's own limit (2 GB) string.rep refuses before allocating, with a
// plain error; the cap is lower, so this too is a quota breach, and pcall
// cannot swallow it.
TEST_F(SandboxEscape, StringRepPastLuasOwnLimitIsAQuotaBreach) {
  expect_refused(run("return string.rep('z', 1 << 34)"), "memory quota exceeded");
  expect_refused(run("return pcall(string.rep, 'ab', 1 << 40, ',')"), "memory quota exceeded");
  expect_refused(run("return ('z'):rep(math.maxinteger)"), "memory quota exceeded");
}

TEST_F(SandboxEscape, TableGrowthMemoryBombIsStopped) {
  expect_refused(run("local t = {} while true do t[#t + 1] = ('x'):rep(1000) .. #t end"),
                 "memory quota exceeded");
}

TEST_F(SandboxEscape, EmptyStringRepCannotSpinForever) {
  EXPECT_EQ(
      run("return string.rep('', math.maxinteger) .. ('').rep('', 1 << 62, '') .. 'done'").result,
      "done");
}

TEST_F(SandboxEscape, TableMoveOfAHugeRangeIsStopped) {
  expect_refused(run("table.move({}, 1, 1 << 50, 2)"), "instruction quota exceeded");
}

TEST_F(SandboxEscape, TableInsertWithAHugeLengthIsStopped) {
  expect_refused(run(R"lua(
    local t = setmetatable({}, {__len = function() return math.maxinteger - 1 end})
    table.insert(t, 1, "x"))lua"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, TableRemoveWithAHugeLengthIsStopped) {
  expect_refused(run(R"lua(
    local t = setmetatable({}, {__len = function() return 1 << 50 end})
    table.remove(t, 1))lua"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, CLoopCallingACMetamethodIsStopped) {
  // table.concat calls __index (itself a C function) per element: no VM
  // instruction runs, so only the call hook can see it.
  expect_refused(run(R"lua(
    local t = setmetatable({}, {__index = table.concat})
    return table.concat(t, "", 1, 1 << 40))lua"),
                 "instruction quota exceeded");
}

// Lua's matcher backtracks inside one C call, where no count hook runs: the
// sandbox's string functions count their steps instead (lua_pattern.cpp).
TEST_F(SandboxEscape, BacktrackingFindIsStopped) {
  expect_refused(run("return ('a'):rep(5000):find('.-.-.-.-.-b')"), "instruction quota exceeded");
}

TEST_F(SandboxEscape, BacktrackingMatchAsAMethodIsStopped) {
  expect_refused(run("return (('a'):rep(5000)):match('^(.-)(.-)(.-)(.-)(.-)b')"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, BacktrackingGmatchIsStopped) {
  expect_refused(run("for w in ('a'):rep(5000):gmatch('a-a-a-a-b') do end"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, BacktrackingGsubUnderPcallIsStopped) {
  expect_refused(run("return pcall(string.gsub, ('a'):rep(5000), '.-.-.-.-x', '')"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, QuadraticPlainFindIsStopped) {
  expect_refused(run(R"lua(
    local haystack, needle = ('a'):rep(2000000), ('a'):rep(1000000) .. 'b'
    return haystack:find(needle, 1, true))lua"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, BalancedMatchOverAHugeSubjectIsStopped) {
  expect_refused(run("local s = ('('):rep(1000000) return s:find('%b()%b()%b()x')"),
                 "instruction quota exceeded");
}

TEST_F(SandboxEscape, PrintGoesToTheHostLogNotStdout) {
  std::string logged;
  lua_.set_log([&logged](std::string_view line) { logged += line; });
  ASSERT_EQ(run("print('hello', 42, nil)").status, ResumeStatus::finished);
  EXPECT_EQ(logged, "hello\t42\tnil");
}

}  // namespace
