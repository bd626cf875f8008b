// The bundled Lua libraries (scripts/belay/{retry,saga,circuit}.lua) as
// scripts reach them: belay.retry, belay.saga, belay.circuit (DESIGN.md "Lua
// API", belay). They run in the real runtime, next to a real browser, so a
// few tests also wrap browser calls with them.

#include "support/lua_harness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaLibs : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaLibs);

// ---------------------------------------------------------------- belay.retry

TEST_P(LuaLibs, RetrySucceedsAfterTwoRetryableFailures) {
  auto r = h().run(R"LUA(
    local calls, slept = 0, {}
    local a, b = belay.retry({ attempts = 5, base_ms = 10, jitter = 0,
                               sleep = function(ms) slept[#slept + 1] = ms end },
      function(x)
        calls = calls + 1
        if calls == 1 then belay.error("timeout", "first") end
        if calls == 2 then belay.error("context_destroyed", "second") end
        return x * 2, "extra"
      end, 21)
    return { calls = calls, a = a, b = b, slept = slept }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["calls"], 3);
  EXPECT_EQ(r.value()["a"], 42);
  EXPECT_EQ(r.value()["b"], "extra");
  EXPECT_EQ(r.value()["slept"], json::array({10, 20}));
}

TEST_P(LuaLibs, RetryWaitsWithBelaySleepByDefault) {
  auto r = h().run(R"LUA(
    local calls = 0
    local t0 = belay.now()
    belay.retry({ attempts = 3, base_ms = 40, factor = 2, jitter = 0 }, function()
      calls = calls + 1
      if calls < 3 then belay.error("target_closed", "again") end
    end)
    return { calls = calls, ms = belay.now() - t0 }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["calls"], 3);
  EXPECT_GE(r.value()["ms"].get<int64_t>(), 40 + 80 - 2);
  EXPECT_LT(r.value()["ms"].get<int64_t>(), 2000);
}

TEST_P(LuaLibs, RetryStopsAtAttempts) {
  auto r = h().run(R"LUA(
    local calls = 0
    local ok, err = pcall(belay.retry, { attempts = 3, base_ms = 1, sleep = function() end },
      function()
        calls = calls + 1
        belay.error("timeout", "attempt " .. calls)
      end)
    local once = 0
    pcall(belay.retry, { attempts = 1 }, function() once = once + 1 belay.error("timeout", "x") end)
    return { ok = ok, calls = calls, kind = err.kind, message = err.message, once = once }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["calls"], 3);
  EXPECT_EQ(r.value()["kind"], "timeout");
  EXPECT_EQ(r.value()["message"], "attempt 3") << "the last attempt's error is raised";
  EXPECT_EQ(r.value()["once"], 1);
  auto host = h().run(R"LUA(
    belay.retry({ attempts = 2, base_ms = 1 }, function() belay.error("timeout", "always") end)
  )LUA");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, Kind::timeout);
  EXPECT_EQ(host.error().message, "always");
}

TEST_P(LuaLibs, RetryDoesNotRetryAKindNotListed) {
  auto r = h().run(R"LUA(
    local function count_calls(opts, kind)
      local calls = 0
      local ok, err = pcall(belay.retry, opts, function()
        calls = calls + 1
        belay.error(kind, "nope")
      end)
      return { calls = calls, kind = err.kind }
    end
    local quick = function() end
    return {
      -- listed kinds only, even if the kind is retryable by default
      unlisted = count_calls({ attempts = 5, kinds = { "timeout" }, sleep = quick },
                             "target_closed"),
      listed = count_calls({ attempts = 5, kinds = { "timeout" }, sleep = quick }, "timeout"),
      -- no list: err.retryable decides
      not_retryable = count_calls({ attempts = 5, sleep = quick }, "js_exception"),
      retryable = count_calls({ attempts = 5, sleep = quick }, "target_closed"),
    }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["unlisted"]["calls"], 1);
  EXPECT_EQ(r.value()["unlisted"]["kind"], "target_closed");
  EXPECT_EQ(r.value()["listed"]["calls"], 5);
  EXPECT_EQ(r.value()["not_retryable"]["calls"], 1);
  EXPECT_EQ(r.value()["not_retryable"]["kind"], "js_exception");
  EXPECT_EQ(r.value()["retryable"]["calls"], 5);
}

TEST_P(LuaLibs, RetryDoesNotRetryAPlainLuaError) {
  auto r = h().run(R"LUA(
    local calls = 0
    local ok, err = pcall(belay.retry, { attempts = 5, sleep = function() end }, function()
      calls = calls + 1
      error("oops, a bug")
    end)
    return { calls = calls, err = tostring(err), is_string = type(err) == "string" }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["calls"], 1);
  EXPECT_EQ(r.value()["is_string"], true);
  EXPECT_THAT(r.value()["err"].get<std::string>(), ::testing::HasSubstr("oops, a bug"));
  auto host = h().run(R"LUA(belay.retry({ attempts = 3 }, function() error("plain bug") end))LUA");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, Kind::script);
  EXPECT_THAT(host.error().message, ::testing::HasSubstr("plain bug"));
}

TEST_P(LuaLibs, RetryCallsOnRetryWithAttemptAndWait) {
  auto r = h().run(R"LUA(
    local seen, slept, calls = {}, {}, 0
    belay.retry({ attempts = 4, base_ms = 100, factor = 2, jitter = 0.5,
                  random = function() return 0 end,
                  sleep = function(ms) slept[#slept + 1] = ms end,
                  on_retry = function(err, attempt, wait)
                    seen[#seen + 1] = { kind = err.kind, attempt = attempt, wait = wait }
                  end },
      function()
        calls = calls + 1
        if calls < 3 then belay.error("timeout", "t" .. calls) end
        return "ok"
      end)
    return { seen = seen, slept = slept, calls = calls }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["calls"], 3);
  EXPECT_EQ(r.value()["seen"], json::parse(R"([{"kind":"timeout","attempt":1,"wait":50},
                                                {"kind":"timeout","attempt":2,"wait":100}])"));
  EXPECT_EQ(r.value()["slept"], json::array({50, 100}));
}

// For attempt k the wait lies in [w * (1 - jitter), w], w = min(max_ms,
// base_ms * factor^(k-1)), for the lowest and highest random draws and for
// math.random.
TEST_P(LuaLibs, RetryDelayStaysWithinItsBounds) {
  auto r = h().run(R"LUA(
    local delay = belay.retry.delay
    local cases = {
      { base_ms = 1000, factor = 2, max_ms = 30000, jitter = 0.5 },
      { base_ms = 150, factor = 1.5, max_ms = 1000, jitter = 0.3 },
      { base_ms = 100, factor = 3, max_ms = 5000, jitter = 0 },
      { base_ms = 7, factor = 3, max_ms = 100000, jitter = 1 },
      {},  -- the defaults: 1000, 2, 30000, 0.5
    }
    local bad, checked = {}, 0
    local function check(opts, k, random, label)
      local base, factor = opts.base_ms or 1000, opts.factor or 2
      local max, jitter = opts.max_ms or 30000, opts.jitter or 0.5
      local w = math.min(max, base * factor ^ (k - 1))
      local low = w * (1 - jitter)
      local d = delay(opts, k, random)
      checked = checked + 1
      if type(d) ~= "number" or d < low or d > w then
        bad[#bad + 1] = string.format("base=%s factor=%s jitter=%s k=%d %s: %s not in [%s, %s]",
          base, factor, jitter, k, label, tostring(d), low, w)
      end
      return d
    end
    for _, opts in ipairs(cases) do
      local previous = -1
      for k = 1, 10 do
        local lowest = check(opts, k, function() return 0 end, "random=0")
        if lowest < previous then bad[#bad + 1] = "not monotonic at k=" .. k end
        previous = lowest
        check(opts, k, function() return 0.999 end, "random=0.999")
        for _ = 1, 100 do check(opts, k, math.random, "math.random") end
        check(opts, k, nil, "default random")
      end
    end
    return { bad_count = #bad, bad = table.concat(bad, "\n"), checked = checked,
             exact = delay({ base_ms = 100, factor = 3, jitter = 0 }, 3, math.random),
             capped = delay({ base_ms = 1000, factor = 10, max_ms = 5000, jitter = 0 }, 4) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["checked"], 5 * 10 * 103);
  EXPECT_EQ(r.value()["bad_count"], 0) << r.value()["bad"].get<std::string>();
  EXPECT_EQ(r.value()["exact"], 900);
  EXPECT_EQ(r.value()["capped"], 5000);
}

TEST_P(LuaLibs, RetryRejectsANonFunction) {
  auto r = h().run(R"LUA(
    local ok, err = pcall(belay.retry, { attempts = 2 }, "not a function")
    return { ok = ok, kind = err.kind, message = err.message }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["kind"], "config");
}

// A real use: retry a wait that is too short until the element is there.
// The element is added by the third try itself, never by a timer, so how
// long navigate takes on a loaded machine cannot change the count (a timer
// of 400 ms after load once fired before the first try in CI).
TEST_P(LuaLibs, RetryWrapsBrowserCalls) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "late?ms=600000")
    local tries = 0
    local found = belay.retry({ attempts = 20, base_ms = 10, jitter = 0, factor = 1,
                                kinds = { "not_found" } }, function()
      tries = tries + 1
      if tries == 3 then
        page:evaluate([[setTimeout(() => {
          const d = document.createElement('div');
          d.id = 'late'; d.textContent = 'here'; document.body.append(d);
        }, 20)]])
      end
      return page:wait_for("#late", { timeout = 100 })
    end)
    return { found = found, tries = tries, text = page:text("#late") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["found"], true);
  EXPECT_EQ(r.value()["tries"].get<int>(), 3);
  EXPECT_EQ(r.value()["text"], "here");
}

// Mistakes in using the breaker name the script's own line, not circuit.lua's.
TEST_P(LuaLibs, CircuitRefusesBadOptionsAndNamesTheCallersLine) {
  auto r = h().run(R"LUA(
    local function try(f) local ok, e = pcall(f) return { kind = e.kind, op = e.op, message = e.message } end
    return {
      unknown = try(function() local c = belay.circuit({ failurs = 3 }) return c end),
      bad = try(function() local c = belay.circuit({ cooldown_ms = "soon" }) return c end),
      call = try(function() local v = belay.circuit():call(nil) return v end),
    }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value();
  EXPECT_EQ(v["unknown"]["kind"], "config") << v.dump();
  EXPECT_THAT(v["unknown"]["message"].get<std::string>(), ::testing::HasSubstr("unknown option 'failurs'"));
  EXPECT_EQ(v["bad"]["kind"], "config") << v.dump();
  EXPECT_THAT(v["bad"]["message"].get<std::string>(), ::testing::HasSubstr("cooldown_ms must be a number above 0"));
  EXPECT_EQ(v["call"]["kind"], "script") << v.dump();
  for (const char* which : {"unknown", "bad", "call"}) {
    const std::string op = v[which]["op"].get<std::string>();
    EXPECT_THAT(op, ::testing::Not(::testing::HasSubstr("circuit.lua"))) << which << ": " << op;
    EXPECT_THAT(op, ::testing::MatchesRegex(".*:[0-9]+")) << which << ": " << op;
  }
}

// ----------------------------------------------------------------- belay.saga

TEST_P(LuaLibs, SagaUndoesCompletedStepsInReverseAndReraises) {
  auto r = h().run(R"LUA(
    local log, raised = {}, nil
    local function add(line) log[#log + 1] = line end
    local ok, err = pcall(belay.saga, {
      { name = "a", run = function() add("run a") return "ra" end,
        undo = function(res) add("undo a " .. tostring(res)) end },
      { name = "b", run = function() add("run b") return { v = "rb" } end,
        undo = function(res) add("undo b " .. tostring(res.v)) end },
      { name = "c", run = function() add("run c") return "rc" end },  -- nothing to undo
      { name = "d", run = function()
          add("run d")
          local _, e = pcall(belay.error, "timeout", "d broke")
          raised = e
          error(e, 0)
        end,
        undo = function() add("undo d") end },
      { name = "e", run = function() add("run e") end, undo = function() add("undo e") end },
    })
    return { ok = ok, log = log, kind = err.kind, message = err.message,
             same_error = rawequal(err, raised) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["log"],
            json::array({"run a", "run b", "run c", "run d", "undo b rb", "undo a ra"}));
  EXPECT_EQ(r.value()["kind"], "timeout");
  EXPECT_EQ(r.value()["message"], "d broke");
  EXPECT_EQ(r.value()["same_error"], true) << "the original error object is raised again";
  auto host = h().run(R"LUA(
    belay.saga({ { run = function() return 1 end },
                 { run = function() belay.error("not_found", "step 2") end } })
  )LUA");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, Kind::not_found);
  EXPECT_EQ(host.error().message, "step 2");
}

TEST_P(LuaLibs, SagaLogsAFailingUndoAndRunsTheOthers) {
  auto r = h().run(R"LUA(
    local log = {}
    local ok, err = pcall(belay.saga, {
      { name = "first", run = function() return 1 end,
        undo = function(res) log[#log + 1] = "undo first " .. res end },
      { name = "second", run = function() return 2 end,
        undo = function() error("undo second broke", 0) end },
      { name = "third", run = function() return 3 end,
        undo = function(res) log[#log + 1] = "undo third " .. res end },
      { name = "fourth", run = function() belay.error("navigation_failed", "fourth failed") end },
    })
    return { ok = ok, log = log, kind = err.kind, message = err.message }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["log"], json::array({"undo third 3", "undo first 1"}));
  EXPECT_EQ(r.value()["kind"], "navigation_failed") << "the step's error, not the undo's";
  EXPECT_EQ(r.value()["message"], "fourth failed");
  bool logged = false;
  for (const auto& [level, line] : h().logs()) {
    if (level == "warn" && line.find("second") != std::string::npos &&
        line.find("undo second broke") != std::string::npos) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << "the failing undo should be logged as a warning";
}

TEST_P(LuaLibs, SagaReturnsTheResultsOnSuccess) {
  auto r = h().run(R"LUA(
    local undone = 0
    local results = belay.saga({
      { name = "one", run = function() return 1 end, undo = function() undone = undone + 1 end },
      { name = "two", run = function() return "two" end,
        undo = function() undone = undone + 1 end },
      { name = "three", run = function() return { x = 3 } end },
    })
    return { results = results, undone = undone }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["results"], json::parse(R"([1, "two", {"x": 3}])"));
  EXPECT_EQ(r.value()["undone"], 0);
}

// A bad definition is a config error found before any step runs: nothing
// to undo, no side effect left behind.
TEST_P(LuaLibs, SagaRejectsBadStepsBeforeRunningAny) {
  auto r = h().run(R"LUA(
    local ok1, e1 = pcall(belay.saga, "steps")
    local ran = false
    local ok2, e2 = pcall(belay.saga, { { name = "ok", run = function() ran = true end },
                                        { name = "no run" } })
    return { k1 = e1.kind, k2 = e2.kind, m2 = e2.message, ran = ran }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["k1"], "config");
  EXPECT_EQ(r.value()["k2"], "config");
  EXPECT_THAT(r.value()["m2"].get<std::string>(), ::testing::HasSubstr("step 2"));
  EXPECT_EQ(r.value()["ran"], false) << "step 1 ran although the saga was invalid";
}

// Steps and undos may wait on the browser (they run inside pcall).
TEST_P(LuaLibs, SagaStepsMayCallTheBrowser) {
  auto r = h().run(R"LUA(
    local ok, err = pcall(belay.saga, {
      { name = "open", run = function() page:navigate(fixture .. "page2") return page:title() end,
        undo = function(title) page:navigate(fixture .. "page3") end },
      { name = "find", run = function() page:wait_for("#missing", { timeout = 100 }) end },
    })
    return { kind = err.kind, title = page:title() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["kind"], "not_found");
  EXPECT_EQ(r.value()["title"], "Page 3") << "the undo navigated";
}

// -------------------------------------------------------------- belay.circuit

// A clock the test moves: opts.now.
const char* const kCircuit = R"LUA(
local T = 0
local calls = 0
local c = belay.circuit{ failures = 3, window_ms = 1000, cooldown_ms = 5000,
                         now = function() return T end }
local function fail() calls = calls + 1 belay.error("timeout", "down") end
local function succeed(v) calls = calls + 1 return v, "more" end
local function rejected(...)
  local before = calls
  local ok, err = pcall(c.call, c, ...)
  return not ok and type(err) == "table" and err.kind == "cancelled"
         and err.message == "circuit open" and calls == before
end
)LUA";

TEST_P(LuaLibs, CircuitOpensAfterFailuresWithinTheWindow) {
  auto r = h().run(std::string(kCircuit) + R"LUA(
    local states = { c:state() }
    local kinds = {}
    for _ = 1, 3 do
      local ok, err = pcall(c.call, c, fail)
      kinds[#kinds + 1] = err.kind
      states[#states + 1] = c:state()
      T = T + 100
    end
    local ok, err = pcall(c.call, c, succeed, 1)
    return { states = states, kinds = kinds, calls = calls, rejected = rejected(succeed, 1),
             kind = err.kind, message = err.message, retryable = err.retryable,
             str = tostring(err), still_open = c:state() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["states"], json::array({"closed", "closed", "closed", "open"}));
  EXPECT_EQ(r.value()["kinds"], json::array({"timeout", "timeout", "timeout"}))
      << "fn's own error passes through";
  EXPECT_EQ(r.value()["calls"], 3) << "fn is not called while open";
  EXPECT_EQ(r.value()["rejected"], true);
  EXPECT_EQ(r.value()["kind"], "cancelled");
  EXPECT_EQ(r.value()["message"], "circuit open");
  EXPECT_EQ(r.value()["retryable"], false);
  EXPECT_EQ(r.value()["still_open"], "open");
  auto host = h().run(std::string(kCircuit) + R"LUA(
    for _ = 1, 3 do pcall(c.call, c, fail) end
    c:call(succeed)
  )LUA");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, Kind::cancelled);
  EXPECT_EQ(host.error().message, "circuit open");
}

TEST_P(LuaLibs, CircuitHalfOpensAfterCooldownAndASuccessCloses) {
  auto r = h().run(std::string(kCircuit) + R"LUA(
    for _ = 1, 3 do pcall(c.call, c, fail) end       -- opened at T = 0
    T = 4999
    local before_cooldown = c:state()
    local rejected_before = rejected(succeed, 1)
    T = 5000
    local after_cooldown = c:state()
    local a, b = c:call(succeed, 7)
    local closed = c:state()
    pcall(c.call, c, fail)                           -- one failure: counts started afresh
    return { before_cooldown = before_cooldown, rejected_before = rejected_before,
             after_cooldown = after_cooldown, a = a, b = b, closed = closed,
             after_one_failure = c:state() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["before_cooldown"], "open");
  EXPECT_EQ(r.value()["rejected_before"], true);
  EXPECT_EQ(r.value()["after_cooldown"], "half_open");
  EXPECT_EQ(r.value()["a"], 7);
  EXPECT_EQ(r.value()["b"], "more");
  EXPECT_EQ(r.value()["closed"], "closed");
  EXPECT_EQ(r.value()["after_one_failure"], "closed");
}

TEST_P(LuaLibs, CircuitHalfOpenFailureReopens) {
  auto r = h().run(std::string(kCircuit) + R"LUA(
    for _ = 1, 3 do pcall(c.call, c, fail) end       -- opened at T = 0
    T = 6000
    local half = c:state()
    local ok, err = pcall(c.call, c, fail)           -- the trial fails
    local reopened = c:state()
    local rejected_now = rejected(succeed, 1)
    T = 10999
    local still_open = c:state()
    T = 11000
    return { half = half, trial_kind = err.kind, reopened = reopened,
             rejected_now = rejected_now, still_open = still_open, half_again = c:state() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["half"], "half_open");
  EXPECT_EQ(r.value()["trial_kind"], "timeout");
  EXPECT_EQ(r.value()["reopened"], "open");
  EXPECT_EQ(r.value()["rejected_now"], true);
  EXPECT_EQ(r.value()["still_open"], "open") << "a new cool-down starts at the failed trial";
  EXPECT_EQ(r.value()["half_again"], "half_open");
}

// Half-open lets one trial through: a call while the trial runs is rejected.
TEST_P(LuaLibs, CircuitLetsOneTrialThroughWhenHalfOpen) {
  auto r = h().run(std::string(kCircuit) + R"LUA(
    for _ = 1, 3 do pcall(c.call, c, fail) end
    T = 5000
    local inner_rejected
    local v = c:call(function()
      inner_rejected = rejected(succeed, 1)
      return "trial"
    end)
    return { v = v, inner_rejected = inner_rejected, state = c:state() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["v"], "trial");
  EXPECT_EQ(r.value()["inner_rejected"], true);
  EXPECT_EQ(r.value()["state"], "closed");
}

TEST_P(LuaLibs, CircuitIgnoresFailuresOutsideTheWindow) {
  auto r = h().run(std::string(kCircuit) + R"LUA(
    local states = {}
    for _, t in ipairs({ 0, 600, 1200, 1800 }) do
      T = t
      pcall(c.call, c, fail)
      states[#states + 1] = c:state()
    end
    T = 1900                                          -- 1200, 1800, 1900 are within 1000 ms
    pcall(c.call, c, fail)
    states[#states + 1] = c:state()
    return states
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), json::array({"closed", "closed", "closed", "closed", "open"}));
}

TEST_P(LuaLibs, CircuitDefaultsOpenAfterFiveFailures) {
  auto r = h().run(R"LUA(
    local c = belay.circuit()
    local states = {}
    for _ = 1, 5 do
      pcall(c.call, c, function() error("down") end)
      states[#states + 1] = c:state()
    end
    return states
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), json::array({"closed", "closed", "closed", "closed", "open"}));
}

}  // namespace
}  // namespace belay::test
