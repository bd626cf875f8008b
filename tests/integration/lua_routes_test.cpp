// page:route, page:unroute and page:block against a real Chromium over both
// transports (DESIGN.md "Lua API", Network): a fetch fulfilled with a stub,
// images aborted (the page sees them fail), a header rewritten that the
// fixture server echoes, handlers that decide nothing, raise or decide
// twice, routes that end with their task, and the bad input each call
// refuses.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaRoutes : public LuaTest {
 protected:
  // The handler_failed events logged since `from` (an index into events()).
  std::vector<json> failures_since(size_t from) {
    std::vector<json> out;
    const auto& events = h().events();
    for (size_t i = from; i < events.size(); ++i) {
      if (events[i].first == "handler_failed") out.push_back(events[i].second);
    }
    return out;
  }
};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaRoutes);

// Waits for /fetch's request to end; returns {status, result}.
const char* kFetchResult = R"LUA(
  local function fetch_result()
    page:navigate(fixture .. "fetch")
    page:wait_for_function("document.getElementById('status').textContent !== 'waiting'")
    return { status = page:text("#status"), result = page:text("#result") }
  end
)LUA";

TEST_P(LuaRoutes, AFulfilledFetchGetsTheStubAndTheHandlerSeesTheRequest) {
  auto r = h().run(std::string(kFetchResult) + R"LUA(
    local seen
    page:route("**/api/data", function(req)
      seen = { method = req.method, post_data = req.post_data, type = req.resource_type,
               url = req.url, decided = req.decided, str = tostring(req) }
      req:fulfill{ status = 201, headers = { ["content-type"] = "application/json" },
                   body = '{"stub":true}' }
    end)
    local got = fetch_result()
    got.seen = seen
    return got
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["status"], "201");
  EXPECT_EQ(r.value()["result"], "{\"stub\":true}");
  const json& seen = r.value()["seen"];
  EXPECT_EQ(seen["method"], "POST");
  EXPECT_EQ(seen["post_data"], "question=1");
  // Chromium names a fetch() "XHR" or "Fetch", depending on its version.
  EXPECT_THAT(seen["type"].get<std::string>(), ::testing::AnyOf("fetch", "xhr"));
  EXPECT_EQ(seen["decided"], false);
  EXPECT_THAT(seen["url"].get<std::string>(), ::testing::EndsWith("/api/data"));
  EXPECT_THAT(seen["str"].get<std::string>(), ::testing::StartsWith("request(POST "));
}

// The same page without the route reaches the server (which refuses POST);
// unroute ends the route at once, and a route ends with its task.
TEST_P(LuaRoutes, UnrouteAndTheEndOfTheTaskLetRequestsThrough) {
  auto r = h().run(std::string(kFetchResult) + R"LUA(
    local route = page:route("**/api/data", function(req) req:fulfill{ body = "stub" } end)
    local routed = fetch_result()
    local str = tostring(route)
    local removed = page:unroute(route)
    local after = fetch_result()
    page:route("**/api/data", function(req) req:fulfill{ body = "stub" } end)
    return { routed = routed, str = str, removed = removed, after = after,
             again = page:unroute(route) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["routed"]["result"], "stub");
  EXPECT_EQ(r.value()["str"], "route(**/api/data)");
  EXPECT_EQ(r.value()["removed"], 1);
  EXPECT_EQ(r.value()["after"]["status"], "405");
  EXPECT_EQ(r.value()["again"], 0);
  // The last snippet's route ended with it.
  auto next = h().run(std::string(kFetchResult) + "return fetch_result()");
  ASSERT_TRUE(next.ok()) << ok_text(next);
  EXPECT_EQ(next.value()["status"], "405");
}

TEST_P(LuaRoutes, BlockedImagesFailInThePage) {
  auto r = h().run(R"LUA(
    local function images()
      page:navigate(fixture .. "images?n=3")
      page:wait_for_function("window.settled")
      return { loaded = page:evaluate("window.loaded"), failed = page:evaluate("window.failed") }
    end
    local blocked = page:block{ types = { "image" } }
    local with_block = images()
    page:unroute(blocked)
    local by_pattern = page:block{ patterns = { "**/pixel.png?i=2" } }
    local with_pattern = images()
    page:unroute(by_pattern)
    return { with_block = with_block, with_pattern = with_pattern, without = images() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["with_block"], json::parse(R"({"loaded": 0, "failed": 3})"));
  EXPECT_EQ(r.value()["with_pattern"], json::parse(R"({"loaded": 2, "failed": 1})"));
  EXPECT_EQ(r.value()["without"], json::parse(R"({"loaded": 3, "failed": 0})"));
}

// A function matcher takes only what it returns true for; newer routes are
// asked first; abort's reason reaches the page's requestfailed event.
TEST_P(LuaRoutes, AFunctionMatcherAndAnAbortInAHandler) {
  auto r = h().run(R"LUA(
    local errors = {}
    page:on("requestfailed", function(e) errors[#errors + 1] = e.error end)
    page:route("**/pixel.png*", function(req) req:continue() end)
    page:route(function(url) return url:find("i=2", 1, true) ~= nil end,
               function(req) req:abort("accessdenied") end)
    page:navigate(fixture .. "images?n=3")
    page:wait_for_function("window.settled")
    belay.sleep(100)
    return { loaded = page:evaluate("window.loaded"), failed = page:evaluate("window.failed"),
             errors = errors }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["loaded"], 2);
  EXPECT_EQ(r.value()["failed"], 1);
  ASSERT_EQ(r.value()["errors"].size(), 1u) << r.value().dump();
  EXPECT_THAT(r.value()["errors"][0].get<std::string>(), ::testing::HasSubstr("ACCESS_DENIED"));
}

TEST_P(LuaRoutes, ContinueRewritesAHeaderTheServerEchoes) {
  auto r = h().run(R"LUA(
    page:route("**/echo-headers", function(req)
      local headers = req.headers
      headers["X-Belay"] = "routed"
      req:continue{ headers = headers }
    end)
    page:navigate(fixture .. "echo-headers")
    return page:evaluate("document.body.innerText")
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json echoed = json::parse(r.value().get<std::string>());
  bool found = false;
  for (const auto& [name, value] : echoed.items()) {
    if ((name == "x-belay" || name == "X-Belay") && value == "routed") found = true;
  }
  EXPECT_TRUE(found) << echoed.dump();
}

// Decides nothing: the request goes on. Raises: handler_failed, and it goes
// on. Decides twice: the second is a script error (handler_failed), the
// first answer stands.
TEST_P(LuaRoutes, HandlersThatDecideNothingRaiseOrDecideTwice) {
  const size_t before = h().events().size();
  auto r = h().run(std::string(kFetchResult) + R"LUA(
    local route = page:route("**/api/data", function(req) end)
    local nothing = fetch_result()
    page:unroute(route)
    route = page:route("**/api/data", function(req) error("route broke") end)
    local raised = fetch_result()
    page:unroute(route)
    page:route("**/api/data", function(req)
      req:fulfill{ body = "first" }
      req:continue()
    end)
    local twice = fetch_result()
    return { nothing = nothing, raised = raised, twice = twice }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["nothing"]["status"], "405");
  EXPECT_EQ(r.value()["raised"]["status"], "405");
  EXPECT_EQ(r.value()["twice"]["result"], "first");
  const auto failures = failures_since(before);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0]["handler"], "page:route");
  EXPECT_THAT(failures[0]["message"].get<std::string>(), ::testing::HasSubstr("route broke"));
  EXPECT_EQ(failures[0]["then"], "the request goes on");
  EXPECT_EQ(failures[1]["kind"], "script");
  EXPECT_THAT(failures[1]["message"].get<std::string>(), ::testing::HasSubstr("answered already"));
  EXPECT_EQ(failures[1]["then"], "its answer stands");
}

// A handler still running when its task ends is cancelled: the request it
// held goes on to the server, and handler_failed says so (kind cancelled).
TEST_P(LuaRoutes, AHandlerCancelledWithItsTaskLetsTheRequestGoOn) {
  const size_t before = h().events().size();
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    page:route("**/api/data", function(req)
      handler_started = true
      belay.sleep(600000)
      req:fulfill{ body = "never" }
    end)
    page:evaluate([[window.sent = fetch('/api/data', { method: 'POST' })
      .then(function (r) { return r.status + ' ' + r.statusText; }); 0]])
    for _ = 1, 250 do
      if handler_started then break end
      belay.sleep(20)
    end
    return handler_started
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), true);
  auto sent = h().run(R"LUA(return page:evaluate("window.sent"))LUA");
  ASSERT_TRUE(sent.ok()) << ok_text(sent);
  EXPECT_THAT(sent.value().get<std::string>(), ::testing::StartsWith("405"));
  const auto failures = failures_since(before);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0]["handler"], "page:route");
  EXPECT_EQ(failures[0]["kind"], "cancelled");
  EXPECT_EQ(failures[0]["then"], "the request goes on");
}

TEST_P(LuaRoutes, BadInputIsRefusedWithAClearError) {
  const size_t before = h().events().size();
  auto r = h().run(with_catch(std::string(kFetchResult) + R"LUA(
    local out = {
      matcher = catch(function() page:route(42, function() end) end),
      handler = catch(function() page:route("**", "not a function") end),
      empty = catch(function() page:route("", function() end) end),
      option = catch(function() page:route("**", function() end, { bogus = 1 }) end),
      block_empty = catch(function() page:block{} end),
      block_type = catch(function() page:block{ types = { "picture" } } end),
      block_key = catch(function() page:block{ kinds = { "image" } } end),
      unroute = catch(function() page:unroute(42) end),
    }
    local route = page:route("**/api/data", function(req) req:abort("nope") end)
    out.reason = fetch_result()
    page:unroute(route)
    route = page:route("**/api/data", function(req) req:fulfill{ status = 99 } end)
    out.status = fetch_result()
    page:unroute(route)
    page:route("**/api/data", function(req) req:continue{ bogus = true } end)
    out.continue = fetch_result()
    return out
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value();
  EXPECT_TRUE(LuaError(v["matcher"], {Kind::script}, "page:route", "URL glob or a function"));
  EXPECT_TRUE(LuaError(v["handler"], {Kind::script}, "page:route", "must be a function"));
  EXPECT_TRUE(LuaError(v["empty"], {Kind::config}, "page:route", "glob is empty"));
  EXPECT_TRUE(LuaError(v["option"], {Kind::config}, "page:route", "bogus"));
  EXPECT_TRUE(LuaError(v["block_empty"], {Kind::config}, "page:block", "patterns or types"));
  EXPECT_TRUE(LuaError(v["block_type"], {Kind::config}, "page:block", "unknown resource type"));
  EXPECT_TRUE(LuaError(v["block_key"], {Kind::config}, "page:block", "kinds"));
  EXPECT_TRUE(LuaError(v["unroute"], {Kind::script}, "page:unroute", "expects a route"));
  // A handler's bad answer fails the handler; its request goes on.
  EXPECT_EQ(v["reason"]["status"], "405");
  EXPECT_EQ(v["status"]["status"], "405");
  EXPECT_EQ(v["continue"]["status"], "405");
  const auto failures = failures_since(before);
  ASSERT_EQ(failures.size(), 3u);
  for (const auto& f : failures) EXPECT_EQ(f["kind"], "config") << f.dump();
  EXPECT_THAT(failures[0]["message"].get<std::string>(),
              ::testing::HasSubstr("unknown reason 'nope'"));
}

}  // namespace
}  // namespace belay::test
