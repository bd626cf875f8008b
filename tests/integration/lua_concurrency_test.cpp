// Several browser calls at once from Lua (DESIGN.md "Lua API", belay.all;
// "Browser calls also work inside coroutines the script creates"), against
// a real Chromium over both transports: calls made inside the script's own
// coroutines, and belay.all's sibling tasks, their order, their failure and
// cancellation, and what they leave behind (no task, no pending command).

#include "browser/browser.hpp"
#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaConcurrency : public LuaTest {
 protected:
  size_t pending_commands() { return h().session().browser()->connection().pending_count(); }
};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaConcurrency);

// ------------------------------------------------- calls in script coroutines

TEST_P(LuaConcurrency, ACoroutineWrapIteratorYieldsEvaluateResults) {
  auto r = h().run(R"LUA(
    local squares = coroutine.wrap(function()
      for i = 1, 4 do coroutine.yield(page:evaluate("(n) => n * n", i)) end
      return "done"
    end)
    local out = {}
    for i = 1, 4 do out[i] = squares() end
    return { out = out, last = squares() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["out"], json::parse("[1, 4, 9, 16]"));
  EXPECT_EQ(r.value()["last"], "done");
}

// A call two coroutines deep waits through both resumes; values passed to
// resume and yield still go where Lua sends them.
TEST_P(LuaConcurrency, CallsWaitThroughNestedCoroutines) {
  auto r = h().run(R"LUA(
    local inner = coroutine.create(function(a)
      local b = coroutine.yield(page:evaluate("(x) => x + 1", a))
      return page:evaluate("(x) => x * 10", b)
    end)
    local outer = coroutine.wrap(function()
      local ok1, v1 = coroutine.resume(inner, 1)
      local ok2, v2 = coroutine.resume(inner, v1 + 1)
      return { ok1, v1, ok2, v2, coroutine.status(inner), page:title() ~= nil }
    end)
    return outer()
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), json::parse(R"([true, 2, true, 30, "dead", true])"));
}

TEST_P(LuaConcurrency, AFailedCallInsideACoroutineRaisesThere) {
  auto r = h().run(with_catch(R"LUA(
    local co = coroutine.create(function()
      return page:evaluate("(() => { throw new Error('boom') })()")
    end)
    local ok, err = coroutine.resume(co)
    local wrapped = coroutine.wrap(function() page:wait_for("#nope", { timeout = 100 }) end)
    return { ok = ok, kind = err.kind, status = coroutine.status(co), wrapped = catch(wrapped),
             after = page:evaluate("1 + 1") }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["kind"], "js_exception");
  EXPECT_EQ(r.value()["status"], "dead");
  EXPECT_TRUE(LuaError(r.value()["wrapped"], {Kind::not_found}, "page:wait_for"));
  EXPECT_EQ(r.value()["after"], 2);
}

// Another task holding the coroutine cannot resume or close it while it
// waits: that would hand the call's answer to the wrong resume.
TEST_P(LuaConcurrency, ACoroutineWaitingOnACallCannotBeResumedFromElsewhere) {
  auto r = h().run(R"LUA(
    local co
    local first, second = belay.all(
      function()
        co = coroutine.create(function()
          return page:evaluate("new Promise(r => setTimeout(() => r(7), 300))")
        end)
        local ok, v = coroutine.resume(co)
        return { ok = ok, v = v }
      end,
      function()
        while co == nil do belay.sleep(5) end
        belay.sleep(50)
        local ok, err = coroutine.resume(co)
        local closed, close_err = coroutine.close(co)
        return { ok = ok, err = err, closed = closed, close_err = close_err }
      end)
    return { first = first, second = second }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["first"], json::parse(R"({"ok": true, "v": 7})"));
  EXPECT_EQ(r.value()["second"]["ok"], false);
  EXPECT_THAT(r.value()["second"]["err"].get<std::string>(),
              ::testing::HasSubstr("waits on a browser call"));
  EXPECT_EQ(r.value()["second"]["closed"], false);
  EXPECT_THAT(r.value()["second"]["close_err"].get<std::string>(),
              ::testing::HasSubstr("waits on a browser call"));
}

// ------------------------------------------------------------------ belay.all

// Each evaluate waits in the page until all 32 have arrived: they can only
// finish if all are in flight at once.
TEST_P(LuaConcurrency, BelayAllKeepsThirtyTwoEvaluatesInFlightAndReturnsThemInOrder) {
  auto r = h().run(R"LUA(
    page:evaluate("window.__arrived = 0")
    local fns = {}
    for i = 1, 32 do
      fns[i] = function()
        return page:evaluate([[(n) => new Promise((resolve) => {
          window.__arrived++;
          const check = () => window.__arrived >= 32 ? resolve(n) : setTimeout(check, 5);
          check();
        })]], i, { timeout = 20000 })
      end
    end
    return { belay.all(table.unpack(fns)) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  json expected = json::array();
  for (int i = 1; i <= 32; ++i) expected.push_back(i);
  EXPECT_EQ(r.value(), expected);
  EXPECT_EQ(h().runtime().running_tasks(), 0u);
}

// The first error is raised as it was; the siblings' pending calls end with
// `cancelled`, so do the calls they try after, and their CDP commands are
// dropped: nothing is left pending on the connection.
TEST_P(LuaConcurrency, TheFirstErrorCancelsTheOthersAndLeavesNoCallPending) {
  auto r = h().run(R"LUA(
    local seen = {}
    local function slow(i)
      return function()
        local ok, e = pcall(page.evaluate, page, "new Promise(r => setTimeout(() => r(1), 30000))")
        local ok2, e2 = pcall(page.evaluate, page, "1 + 1")
        seen[i] = (ok and "finished" or e.kind) .. "/" .. (ok2 and "ran" or e2.kind)
      end
    end
    local ok, err = pcall(belay.all, slow(1), slow(2), function()
      belay.sleep(50)
      return page:evaluate("(() => { throw new Error('sibling failed') })()")
    end, slow(3))
    return { ok = ok, kind = err.kind, message = err.message, op = err.op, seen = seen }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["kind"], "js_exception");
  EXPECT_EQ(r.value()["op"], "page:evaluate");
  EXPECT_THAT(r.value()["message"].get<std::string>(), ::testing::HasSubstr("sibling failed"));
  EXPECT_EQ(r.value()["seen"], json::parse(R"(["cancelled/cancelled", "cancelled/cancelled",
                                                "cancelled/cancelled"])"));
  EXPECT_EQ(h().runtime().running_tasks(), 0u);
  EXPECT_EQ(pending_commands(), 0u);
}

// page:cdp (and page:title, page:url, which send one command the same way)
// drops its command when cancelled, as evaluate does.
TEST_P(LuaConcurrency, ACancelledRawCdpCallLeavesNoCommandPending) {
  auto r = h().run(R"LUA(
    local kind
    local ok, err = pcall(belay.all, function()
      local ok2, e = pcall(page.cdp, page, "Runtime.evaluate",
                           { expression = "new Promise(() => {})", awaitPromise = true }, { timeout = 60000 })
      kind = ok2 and "answered" or e.kind
    end, function()
      belay.sleep(50)
      belay.error("not_found", "sibling failed")
    end)
    return { ok = ok, kind = err.kind, cdp = kind }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["kind"], "not_found");
  EXPECT_EQ(r.value()["cdp"], "cancelled");
  EXPECT_EQ(pending_commands(), 0u);
}

TEST_P(LuaConcurrency, BelayAllNestsAndAnInnerFailureCancelsTheOuterSiblings) {
  auto r = h().run(R"LUA(
    local a, b, c = belay.all(
      function() return page:evaluate("1") end,
      function()
        local x, y = belay.all(function() return page:evaluate("2") end,
                               function() return page:evaluate("3") end)
        return x + y
      end,
      function() end)
    -- Sleeps far longer than the test's own limit: only cancellation ends them.
    local ok, err = pcall(belay.all,
      function()
        belay.all(function() belay.sleep(20); belay.error("not_found", "inner") end,
                  function() belay.sleep(600000) end)
      end,
      function() belay.sleep(600000) end)
    return { a = a, b = b, c_is_nil = c == nil, ok = ok, kind = err.kind, message = err.message }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["a"], 1);
  EXPECT_EQ(r.value()["b"], 5);
  EXPECT_EQ(r.value()["c_is_nil"], true);
  EXPECT_EQ(r.value()["ok"], false);
  EXPECT_EQ(r.value()["kind"], "not_found");
  EXPECT_THAT(r.value()["message"].get<std::string>(), ::testing::HasSubstr("inner"));
  EXPECT_EQ(h().runtime().running_tasks(), 0u);
}

// The siblings' calls also work inside their own coroutines, and belay.all
// works inside a coroutine the script created.
TEST_P(LuaConcurrency, BelayAllAndCoroutinesMix) {
  auto r = h().run(R"LUA(
    local gen = coroutine.wrap(function()
      coroutine.yield(belay.all(
        function() return coroutine.wrap(function() return page:evaluate("40") end)() end,
        function() return page:evaluate("2") end))
    end)
    local a, b = gen()
    return a + b
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), 42);
}

TEST_P(LuaConcurrency, BelayAllRefusesWhatIsNotAFunction) {
  auto r = h().run(with_catch(R"LUA(
    return { bad = catch(belay.all, function() end, 42),
             none = select("#", belay.all()) }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(
      LuaError(r.value()["bad"], {Kind::script}, "", "argument 2 is a number, not a function"));
  EXPECT_EQ(r.value()["none"], 0);
  EXPECT_EQ(h().runtime().running_tasks(), 0u);
}

}  // namespace
}  // namespace belay::test
