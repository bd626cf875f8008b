// page:* from Lua against real headless Chromium and the fixture server: every
// method of DESIGN.md "Lua API" (page), and every error kind each can raise,
// seen both from C++ (the task's error) and from inside Lua (pcall gives the
// error table with kind, message, op, retryable and its tostring form).
//
// Every test runs over the pipe and over the WebSocket (LuaTest). Most tests
// share one browser per transport (LuaPage fixture) and start by navigating,
// so they do not depend on each other; tests that break their page (a
// renderer stuck in a JS loop) get a browser of their own.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

// A TCP port on 127.0.0.1 that nobody listens on (bound, then released).
int unused_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class LuaPage : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaPage);

// ------------------------------------------------------------------ navigate

TEST_P(LuaPage, NavigateLoadsTheDocument) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local first = page:title()
    local result = page:navigate(fixture .. "page2")
    return { first = first, title = page:title(), url = page:url(),
             ready = page:evaluate("document.readyState"),
             result_type = type(result) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["first"], "Page 1");
  EXPECT_EQ(r.value()["title"], "Page 2");
  EXPECT_EQ(r.value()["url"], h().fixture().url("/page2"));
  EXPECT_EQ(r.value()["ready"], "complete");
}

// A document whose image takes 1.2 s to answer: domcontentloaded returns
// before it, load (the default) only after it. The document is a blob: URL
// of the fixture's origin (a data: URL document may not load from 127.0.0.1).
TEST_P(LuaPage, NavigateWaitDomContentLoadedReturnsBeforeLoad) {
  auto r = h().run(R"LUA(
    local function slow_document()
      page:navigate(fixture .. "page1")
      return page:evaluate([[(u) => URL.createObjectURL(new Blob(
        [`<title>dcl</title><p id=p>p</p><img src='${u}'>`], { type: 'text/html' }))]],
        fixture .. "slow?ms=1200")
    end
    local url = slow_document()
    local t0 = belay.now()
    page:navigate(url, { wait = "domcontentloaded" })
    local dcl_ms = belay.now() - t0
    local dcl_state = page:evaluate("document.readyState")
    local dcl_p = page:exists("#p")
    url = slow_document()
    t0 = belay.now()
    page:navigate(url, { wait = "load" })
    local load_ms = belay.now() - t0
    return { dcl_ms = dcl_ms, dcl_state = dcl_state, dcl_p = dcl_p,
             load_ms = load_ms, load_state = page:evaluate("document.readyState") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_LT(r.value()["dcl_ms"].get<int64_t>(), 1000) << r.value();
  EXPECT_EQ(r.value()["dcl_state"], "interactive") << r.value();
  EXPECT_EQ(r.value()["dcl_p"], true);
  EXPECT_GE(r.value()["load_ms"].get<int64_t>(), 1100) << r.value();
  EXPECT_EQ(r.value()["load_state"], "complete");
}

// Requests the page sends from its load handler, one after another, hold
// `networkidle` back until both are done; `load` does not wait for them.
// Chromium's own networkIdle event never came for this page (the navigation
// timed out), so belay counts the requests itself.
TEST_P(LuaPage, NetworkIdleWaitsForRequestsSentAfterLoad) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "late-requests?ms=600", { wait = "load" })
    local at_load = page:evaluate("window.lateDone === true")
    page:navigate(fixture .. "late-requests?ms=600", { wait = "networkidle", timeout = 10000 })
    local at_idle = page:evaluate("window.lateDone === true")
    page:reload({ wait = "networkidle", timeout = 10000 })
    return { at_load = at_load, at_idle = at_idle, text = page:text("#state"),
             after_reload = page:evaluate("window.lateDone === true") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["at_load"], false);
  EXPECT_EQ(r.value()["at_idle"], true);
  EXPECT_EQ(r.value()["text"], "done");
  EXPECT_EQ(r.value()["after_reload"], true);
}

TEST_P(LuaPage, NavigateBadWaitValueIsConfig) {
  auto lua = h().run(with_catch(R"LUA(
    return catch(function() page:navigate(fixture .. "page1", { wait = "networkidle2" }) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::config}, "page:navigate", "wait"));
  EXPECT_TRUE(LuaError(lua.value(), {Kind::config}, "page:navigate", "did you mean 'networkidle'"));
  auto host = h().run(R"LUA(page:navigate(fixture .. "page1", { wait = 42 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::config, "page:navigate", "wait"));
}

TEST_P(LuaPage, NavigateNetErrorIsNavigationFailed) {
  // Port 1 is refused by Chrome itself (ERR_UNSAFE_PORT); a port nobody
  // listens on is refused by the kernel (ERR_CONNECTION_REFUSED).
  const std::string closed = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
  auto lua = h().run(with_catch(R"LUA(
    return { port1 = catch(function() page:navigate("http://127.0.0.1:1/") end),
             refused = catch(function() page:navigate(")LUA" +
                                closed + R"LUA(") end) }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(
      LuaError(lua.value()["port1"], {Kind::navigation_failed}, "page:navigate", "net::ERR_"));
  EXPECT_TRUE(LuaError(lua.value()["refused"], {Kind::navigation_failed}, "page:navigate",
                       "ERR_CONNECTION_REFUSED"));
  EXPECT_EQ(lua.value()["port1"]["has_cdp"], true) << "err.cdp should carry Chrome's answer";
  auto host = h().run(R"LUA(page:navigate("http://127.0.0.1:1/"))LUA");
  EXPECT_TRUE(HostError(host, Kind::navigation_failed, "page:navigate", "net::ERR_"));
}

TEST_P(LuaPage, NavigateToHangingServerTimesOut) {
  auto lua = h().run(with_catch(R"LUA(
    return catch(function() page:navigate(fixture .. "hang", { timeout = 500 }) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::timeout}, "page:navigate"));
  EXPECT_GE(lua.value()["ms"].get<int64_t>(), 450);
  EXPECT_LT(lua.value()["ms"].get<int64_t>(), 3000);
  // A fresh start: a second navigation to the URL still pending would be
  // aborted by Chrome (net::ERR_ABORTED) rather than time out.
  ASSERT_TRUE(h().run(R"LUA(page:navigate(fixture .. "page1"))LUA").ok());
  auto host = h().run(R"LUA(page:navigate(fixture .. "hang", { timeout = 500 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::timeout, "page:navigate"));
  // The page is still usable afterwards.
  auto after = h().run(R"LUA(page:navigate(fixture .. "page3") return page:title())LUA");
  ASSERT_TRUE(after.ok()) << ok_text(after);
  EXPECT_EQ(after.value(), "Page 3");
}

// Chromium holds the tab's session while a navigation waits for a server
// that never answers: the page's next call waited its own 30 s deadline.
// Past the deadline belay stops the navigation and says so; the same page
// object answers at once. Both deadlines: the server never answers (the
// command's), and the document commits but never loads (the wait's).
TEST_P(LuaPage, NavigationPastItsDeadlineLeavesAUsablePage) {
  auto lua = h().run(R"LUA(
    local function try(url)
      local ok, err = pcall(page.navigate, page, url, { timeout = 500 })
      return { ok = ok, kind = err.kind, message = err.message,
               after = page:evaluate("1 + 1") }
    end
    local hang = try(fixture .. "hang")
    local stalled = try(fixture .. "stalled")
    stalled.text = page:text("#here")
    return { hang = hang, stalled = stalled }
  )LUA");
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  for (const char* which : {"hang", "stalled"}) {
    SCOPED_TRACE(which);
    const json& r = lua.value()[which];
    EXPECT_EQ(r["ok"], false) << r.dump();
    EXPECT_EQ(r["kind"], "timeout") << r.dump();
    EXPECT_THAT(r.value("message", ""),
                ::testing::HasSubstr("belay stopped the pending navigation (the page is usable)"))
        << r.dump();
    EXPECT_EQ(r["after"], 2) << r.dump();
  }
  EXPECT_EQ(lua.value()["stalled"]["text"], "here");
}

// ------------------------------------------------------------- reload, history

TEST_P(LuaPage, ReloadLoadsTheDocumentAgain) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "item?key=lua-page-reload")
    local before = page:text("#count")
    page:reload()
    return { before = before, after = page:text("#count"), url = page:url() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["before"], "1");
  EXPECT_EQ(r.value()["after"], "2");
  EXPECT_EQ(r.value()["url"], h().fixture().url("/item?key=lua-page-reload"));
  EXPECT_EQ(h().fixture().hits("lua-page-reload"), 2);
}

TEST_P(LuaPage, BackAndForwardWalkTheHistory) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    page:navigate(fixture .. "page2")
    page:navigate(fixture .. "page3")
    page:back()
    local back1 = page:title()
    page:back()
    local back2 = page:title()
    page:forward()
    return { back1 = back1, back2 = back2, forward = page:title(), url = page:url() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["back1"], "Page 2");
  EXPECT_EQ(r.value()["back2"], "Page 1");
  EXPECT_EQ(r.value()["forward"], "Page 2");
  EXPECT_EQ(r.value()["url"], h().fixture().url("/page2"));
}

TEST_P(LuaPage, BackOrForwardWithNoHistoryReturnsNil) {
  auto r = h().run(R"LUA(
    local p = browser:new_page()
    local back = p:back()
    local fresh_back_nil = back == nil
    p:navigate(fixture .. "page1")
    local fwd = p:forward()
    local result = { fresh_back_nil = fresh_back_nil, forward_nil = fwd == nil,
                     title = p:title() }
    p:close()
    return result
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["fresh_back_nil"], true);
  EXPECT_EQ(r.value()["forward_nil"], true);
  EXPECT_EQ(r.value()["title"], "Page 1");
}

// ----------------------------------------------------------------- url, title

TEST_P(LuaPage, UrlIsTheCurrentLocation) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page3")
    local a = page:url()
    page:evaluate("history.pushState({}, '', '/pushed?x=1')")
    return { a = a, b = page:url() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["a"], h().fixture().url("/page3"));
  EXPECT_EQ(r.value()["b"], h().fixture().url("/pushed?x=1"));
}

TEST_P(LuaPage, TitleIsTheDocumentTitle) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page3")
    local a = page:title()
    page:evaluate("document.title = 'Changed ü'")
    return { a = a, b = page:title() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["a"], "Page 3");
  EXPECT_EQ(r.value()["b"], "Changed ü");
}

// ------------------------------------------------------------------ evaluate

TEST_P(LuaPage, EvaluateExpression) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    return { sum = page:evaluate("1 + 2"), str = page:evaluate("'a' + 'b'"),
             heading = page:evaluate("document.querySelector('#heading').textContent"),
             float = page:evaluate("1 / 4"), bool = page:evaluate("2 > 1"),
             is_int = math.type(page:evaluate("6 * 7")) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["sum"], 3);
  EXPECT_EQ(r.value()["str"], "ab");
  EXPECT_EQ(r.value()["heading"], "Page 1");
  EXPECT_DOUBLE_EQ(r.value()["float"].get<double>(), 0.25);
  EXPECT_EQ(r.value()["bool"], true);
  EXPECT_EQ(r.value()["is_int"], "integer");
}

TEST_P(LuaPage, EvaluateFunctionWithJsonArguments) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local fn = [[(obj, arr, yes, no, text, num) => ({
      deep: obj.inner.deep, x: obj.x, second: arr[1], len: arr.length,
      yes: yes === true, no: no === false, text, num, types: [typeof obj, Array.isArray(arr)] })]]
    local r = page:evaluate(fn, { x = 1, inner = { deep = { "d", 2 } } }, { 10, 20, 30 },
                            true, false, "it's \"quoted\"\n</script>", 2.5)
    local no_args = page:evaluate("function () { return 'called' }")
    local arrow = page:evaluate("x => x * 2", 21)
    return { r = r, no_args = no_args, arrow = arrow }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value()["r"];
  EXPECT_EQ(v["deep"], json::array({"d", 2}));
  EXPECT_EQ(v["x"], 1);
  EXPECT_EQ(v["second"], 20);
  EXPECT_EQ(v["len"], 3);
  EXPECT_EQ(v["yes"], true);
  EXPECT_EQ(v["no"], true);
  EXPECT_EQ(v["text"], "it's \"quoted\"\n</script>");
  EXPECT_DOUBLE_EQ(v["num"].get<double>(), 2.5);
  EXPECT_EQ(v["types"], json::array({"object", true}));
  EXPECT_EQ(r.value()["no_args"], "called");
  EXPECT_EQ(r.value()["arrow"], 42);
}

TEST_P(LuaPage, EvaluateAwaitsPromisesAndAsyncFunctions) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local async_fn = page:evaluate([[async (ms, v) => {
      await new Promise(r => setTimeout(r, ms)); return v + '!' }]], 50, "done")
    local promise = page:evaluate("new Promise(r => setTimeout(() => r(7), 50))")
    local resolved = page:evaluate("Promise.resolve({ a: 1 })")
    return { async_fn = async_fn, promise = promise, resolved = resolved.a }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["async_fn"], "done!");
  EXPECT_EQ(r.value()["promise"], 7);
  EXPECT_EQ(r.value()["resolved"], 1);
}

TEST_P(LuaPage, EvaluateReturnsNestedTables) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local t = page:evaluate("({ a: [1, { b: 'c' }], d: { e: null, f: [] }, g: true })")
    return { t = t, b = t.a[2].b, len = #t.a, null_is_sentinel = t.d.e == belay.json.null,
             g = t.g, type_a = type(t.a) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["b"], "c");
  EXPECT_EQ(r.value()["len"], 2);
  EXPECT_EQ(r.value()["null_is_sentinel"], true);
  EXPECT_EQ(r.value()["g"], true);
  EXPECT_EQ(r.value()["type_a"], "table");
  EXPECT_EQ(r.value()["t"]["a"], json::parse(R"LUA([1, {"b": "c"}])LUA"));
  EXPECT_TRUE(r.value()["t"]["d"]["e"].is_null());
}

TEST_P(LuaPage, EvaluateNullAndUndefinedAreNil) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local function count(...) return select("#", ...), (...) end
    local n1, v1 = count(page:evaluate("null"))
    local n2, v2 = count(page:evaluate("undefined"))
    local n3, v3 = count(page:evaluate("() => {}"))
    return { n1 = n1, n2 = n2, n3 = n3,
             nil1 = v1 == nil, nil2 = v2 == nil, nil3 = v3 == nil }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["nil1"], true);
  EXPECT_EQ(r.value()["nil2"], true);
  EXPECT_EQ(r.value()["nil3"], true);
  EXPECT_EQ(r.value()["n1"], 1);
  EXPECT_EQ(r.value()["n2"], 1);
  EXPECT_EQ(r.value()["n3"], 1);
}

TEST_P(LuaPage, EvaluateThrowIsJsException) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return {
      expr = catch(function() page:evaluate("throw new Error('boom here')") end),
      fn = catch(function() page:evaluate("() => { throw new TypeError('bad type') }") end),
      reject = catch(function() page:evaluate("Promise.reject(new Error('rejected!'))") end),
      syntax = catch(function() page:evaluate("1 +* 2") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value()["expr"], {Kind::js_exception}, "page:evaluate", "boom here"));
  EXPECT_TRUE(
      LuaError(lua.value()["fn"], {Kind::js_exception}, "page:evaluate", "TypeError: bad type"));
  EXPECT_TRUE(LuaError(lua.value()["reject"], {Kind::js_exception}, "page:evaluate", "rejected!"));
  EXPECT_TRUE(
      LuaError(lua.value()["syntax"], {Kind::js_exception}, "page:evaluate", "SyntaxError"));
  EXPECT_EQ(lua.value()["expr"]["has_cdp"], true);
  auto host = h().run(R"LUA(page:evaluate("throw new Error('boom here')"))LUA");
  EXPECT_TRUE(HostError(host, Kind::js_exception, "page:evaluate", "boom here"));
}

TEST_P(LuaPage, EvaluateUnconvertibleArgumentIsScriptError) {
  auto lua = h().run(with_catch(R"LUA(
    return catch(function() page:evaluate("(f) => f", function() end) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::script}, "page:evaluate", "argument 1"));
}

TEST_P(LuaPage, EvaluateTakesAnOptsTableAsLastArgument) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    local doubled = page:evaluate("(a) => a * 2", 21, { timeout = 5000 })
    local with_table_arg = page:evaluate("(a, b) => [a, b.x]", 1, { x = 2 })
    local err = catch(function() page:evaluate("new Promise(() => {})", { timeout = 300 }) end)
    return { doubled = doubled, with_table_arg = with_table_arg, err = err }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_EQ(lua.value()["doubled"], 42);
  EXPECT_EQ(lua.value()["with_table_arg"], json::array({1, 2}));
  EXPECT_TRUE(LuaError(lua.value()["err"], {Kind::timeout}, "page:evaluate"));
  EXPECT_GE(lua.value()["err"]["ms"].get<int64_t>(), 250);
  EXPECT_LT(lua.value()["err"]["ms"].get<int64_t>(), 2500);
  auto host = h().run(R"LUA(page:evaluate("new Promise(() => {})", { timeout = 300 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::timeout, "page:evaluate"));
}

// The page navigates away by itself while a 5 s promise is pending. The
// navigation is started by the evaluation it destroys: a timer set on load
// could fire before a slow machine sends the evaluation.
TEST_P(LuaPage, EvaluateDuringNavigationIsContextDestroyed) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return catch(function()
      page:evaluate("setTimeout(() => { location.href = '/page2' }, 100);" ..
                    "new Promise(r => setTimeout(r, 5000))")
    end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::context_destroyed}, "page:evaluate"));
  EXPECT_LT(lua.value()["ms"].get<int64_t>(), 4000);
  auto host = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    page:evaluate("setTimeout(() => { location.href = '/page2' }, 100);" ..
                  "new Promise(r => setTimeout(r, 5000))")
  )LUA");
  EXPECT_TRUE(HostError(host, Kind::context_destroyed, "page:evaluate"));
}

// A page that redirects itself before it has loaded replaces the document
// page:navigate asked for: the navigation ends when the page's new document
// has loaded, not at its deadline (it used to time out: its own loader
// never fired "load"). The redirect runs while the page parses: one set by
// a timer may fire after "load", and the navigation then rightly ends on
// the first document.
TEST_P(LuaPage, NavigateFollowsAPageThatRedirectsItselfWhileLoading) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "navigate-away?ms=0&to=/page2", { timeout = 8000 })
    return { title = page:title(), url = page:url() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["title"], "Page 2") << r.value().dump();
  EXPECT_THAT(r.value()["url"].get<std::string>(), ::testing::HasSubstr("/page2"));
}

// ------------------------------------------------------------------ wait_for

// A wait spans navigations, as Puppeteer's waitForSelector does: the page
// redirects itself during the wait, and the element appears in the new
// document. It used to fail with context_destroyed.
TEST_P(LuaPage, WaitForLooksAgainInTheDocumentANavigationBrings) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "navigate-away?ms=300&to=" ..
                  "%2Flate%3Fms%3D200", { wait = "domcontentloaded" })
    page:wait_for("#late", { timeout = 15000 })
    return { url = page:url(), text = page:text("#late") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["text"], "here");
  EXPECT_THAT(r.value()["url"].get<std::string>(), ::testing::HasSubstr("/late"));
}

// A page that navigates three times: the wait keeps looking and ends
// at its own deadline with not_found, never context_destroyed.
TEST_P(LuaPage, WaitForOnAPageThatNavigatesThreeTimesEndsNotFound) {
  auto r = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "navigate-away?ms=100&to=" ..
                  "%2Fnavigate-away%3Fms%3D100%26to%3D%252Fnavigate-away%253Fms%253D100",
                  { wait = "domcontentloaded" })
    return catch(function() page:wait_for("#never", { timeout = 1500 }) end)
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(LuaError(r.value(), {Kind::not_found}, "page:wait_for")) << r.value().dump();
}

// A wait whose call was cancelled (Ctrl-C at the console, an item's
// deadline) looks no more: it used to look again after every navigation
// until its own deadline. Each document counts, in sessionStorage, whether
// anything asked it for '#never'.
TEST_P(LuaPage, ACancelledWaitForLooksNoMoreAfterANavigation) {
  auto setup = h().run(R"LUA(
    page:cdp("Page.addScriptToEvaluateOnNewDocument", { source = [[
      const query = Document.prototype.querySelectorAll;
      let counted = false;
      Document.prototype.querySelectorAll = function (selector) {
        if (selector === '#never' && !counted) {
          counted = true;
          sessionStorage.looks = String(Number(sessionStorage.looks || 0) + 1);
        }
        return query.call(this, selector);
      };
    ]] })
    page:navigate(fixture .. "page1")
  )LUA");
  ASSERT_TRUE(setup.ok()) << ok_text(setup);

  uv_timer_t cancel;
  uv_timer_init(h().loop(), &cancel);
  cancel.data = &h().runtime();
  uv_timer_start(
      &cancel,
      [](uv_timer_t* t) {
        static_cast<lua::Runtime*>(t->data)->cancel_all(
            Error{Kind::cancelled, "by the test", "", {}});
      },
      500, 0);
  auto waited = h().run(R"LUA(page:wait_for("#never", { timeout = 20000 }))LUA");
  uv_close(reinterpret_cast<uv_handle_t*>(&cancel), nullptr);
  uv_run(h().loop(), UV_RUN_NOWAIT);  // closed before it leaves the stack
  ASSERT_FALSE(waited.ok());
  ASSERT_EQ(waited.error().kind, Kind::cancelled) << ok_text(waited);

  auto r = h().run(R"LUA(
    for i = 1, 4 do
      page:navigate(fixture .. (i % 2 == 1 and "page2" or "page1"))
      belay.sleep(150)  -- seven times the pause before a wait looks again
    end
    return page:evaluate("Number(sessionStorage.looks || 0)")
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), 1) << "documents asked for '#never' after the wait was cancelled";
}

TEST_P(LuaPage, WaitForPresentElementReturnsAtOnce) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local t0 = belay.now()
    local v = page:wait_for("#heading")
    return { v = v, ms = belay.now() - t0 }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["v"], true);
  EXPECT_LT(r.value()["ms"].get<int64_t>(), 1000);
}

TEST_P(LuaPage, WaitForElementThatAppearsLater) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "late?ms=500")
    local before = page:exists("#late")
    local t0 = belay.now()
    page:wait_for("#late", { timeout = 5000 })
    return { before = before, ms = belay.now() - t0, text = page:text("#late") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["before"], false);
  EXPECT_EQ(r.value()["text"], "here");
  EXPECT_LT(r.value()["ms"].get<int64_t>(), 3000);
}

TEST_P(LuaPage, WaitForVisibleOnHiddenElementIsNotFound) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "late?ms=100")
    local present = page:wait_for("#hidden", { timeout = 300 })
    local visible_late = page:wait_for("#late", { visible = true, timeout = 3000 })
    local err = catch(function() page:wait_for("#hidden", { visible = true, timeout = 300 }) end)
    return { present = present, visible_late = visible_late, err = err }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_EQ(lua.value()["present"], true);
  EXPECT_EQ(lua.value()["visible_late"], true);
  EXPECT_TRUE(LuaError(lua.value()["err"], {Kind::not_found}, "page:wait_for", "#hidden"));
  EXPECT_GE(lua.value()["err"]["ms"].get<int64_t>(), 250);
  EXPECT_LT(lua.value()["err"]["ms"].get<int64_t>(), 2000);
  auto host = h().run(R"LUA(page:wait_for("#hidden", { visible = true, timeout = 300 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::not_found, "page:wait_for", "#hidden"));
}

TEST_P(LuaPage, WaitForMissingElementIsNotFound) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return catch(function() page:wait_for("#nope", { timeout = 300 }) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::not_found}, "page:wait_for", "#nope"));
  EXPECT_GE(lua.value()["ms"].get<int64_t>(), 250);
  EXPECT_LT(lua.value()["ms"].get<int64_t>(), 2000);
  auto host = h().run(R"LUA(page:wait_for("#nope", { timeout = 300 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::not_found, "page:wait_for", "#nope"));
}

class LuaPageBusy : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaPageBusy);

// A renderer stuck in a JS loop never answers: that is a timeout, not
// not_found. Own browser: the stuck renderer stays stuck.
TEST_P(LuaPageBusy, WaitForOnPageBusyInJsIsTimeout) {
  LuaHarness h(transport());
  auto setup = h.run(R"LUA(
    page:navigate(fixture .. "page1")
    page:evaluate("setTimeout(() => { while (true) {} }, 0)")
  )LUA");
  ASSERT_TRUE(setup.ok()) << ok_text(setup);
  auto results = h.run_all({with_catch(R"LUA(
    return catch(function() page:wait_for("#heading", { timeout = 500 }) end)
  )LUA"),
                            R"LUA(page:wait_for("#heading", { timeout = 500 }))LUA"});
  ASSERT_TRUE(results[0].ok()) << ok_text(results[0]);
  EXPECT_TRUE(LuaError(results[0].value(), {Kind::timeout}, "page:wait_for"));
  EXPECT_GE(results[0].value()["ms"].get<int64_t>(), 450);
  EXPECT_LT(results[0].value()["ms"].get<int64_t>(), 6000);
  EXPECT_TRUE(HostError(results[1], Kind::timeout, "page:wait_for"));
}

// -------------------------------------------------------------------- exists

TEST_P(LuaPage, ExistsTellsWhetherAnElementMatches) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    return { yes = page:exists("#heading"), link = page:exists("a#to-page2"),
             no = page:exists("#nope"), wrong_link = page:exists("a#to-page3") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["yes"], true);
  EXPECT_EQ(r.value()["link"], true);
  EXPECT_EQ(r.value()["no"], false);
  EXPECT_EQ(r.value()["wrong_link"], false);
}

// A selector that cannot be parsed is the script's mistake: raised at once,
// never waited for, and not a JavaScript exception the page threw.
TEST_P(LuaPage, InvalidSelectorIsAScriptError) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return catch(function() page:exists("###") end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(
      LuaError(lua.value(), {Kind::script}, "page:exists", "'###' is not a valid selector"));
}

// --------------------------------------------------------------------- click

TEST_P(LuaPage, ClickFollowsALink) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    page:click("a#to-page2")
    -- The navigation the click starts is the page's, not ours: poll.
    local title
    for _ = 1, 100 do
      local ok, t = pcall(page.title, page)
      if ok and t == "Page 2" then title = t break end
      belay.sleep(50)
    end
    page:wait_for("a#to-page3", { timeout = 5000 })
    return { title = title, url = page:url() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["title"], "Page 2");
  EXPECT_EQ(r.value()["url"], h().fixture().url("/page2"));
}

TEST_P(LuaPage, ClickMissingElementIsNotFound) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return catch(function() page:click("#nope", { timeout = 300 }) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::not_found}, "page:click", "#nope"));
  auto host = h().run(R"LUA(page:click("#nope", { timeout = 300 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::not_found, "page:click", "#nope"));
}

// ---------------------------------------------------------------------- type

TEST_P(LuaPage, TypeAndClickSubmitTheForm) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "form")
    page:type("#to", "hello")
    local value = page:evaluate("document.querySelector('#to').value")
    page:click("#send")
    page:wait_for("#sent", { timeout = 5000 })
    return { value = value, sent = page:text("#sent") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["value"], "hello");
  EXPECT_EQ(r.value()["sent"], "sent: hello");
}

TEST_P(LuaPage, TypeSendsKeyEventsAndUnicode) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "form")
    page:evaluate("window.keys = []; document.querySelector('#to')" ..
                  ".addEventListener('keydown', e => keys.push(e.key))")
    page:type("#to", "aé€")
    return { value = page:evaluate("document.querySelector('#to').value"),
             keys = page:evaluate("window.keys") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["value"], "aé€");
  EXPECT_EQ(r.value()["keys"], json::array({"a", "é", "€"}));
}

TEST_P(LuaPage, TypeIntoMissingElementIsNotFound) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "form")
    return catch(function() page:type("#nope", "x", { timeout = 300 }) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::not_found}, "page:type", "#nope"));
}

// --------------------------------------------------------------------- press

TEST_P(LuaPage, PressSendsNamedKeys) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "form")
    page:evaluate("window.keys = []; document.addEventListener('keydown', e => keys.push(e.key))")
    page:type("#to", "abc")
    page:press("Backspace")
    page:press("Enter")
    page:press("x")
    page:press("Tab")
    return { keys = page:evaluate("window.keys"),
             value = page:evaluate("document.querySelector('#to').value"),
             focused = page:evaluate("document.activeElement && document.activeElement.id") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["keys"], json::array({"a", "b", "c", "Backspace", "Enter", "x", "Tab"}));
  EXPECT_EQ(r.value()["value"], "abx");
  EXPECT_EQ(r.value()["focused"], "send") << "Tab should move the focus to the button";
}

TEST_P(LuaPage, PressUnknownKeyIsConfig) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "form")
    return catch(function() page:press("NoSuchKey") end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::config}, "page:press", "NoSuchKey"));
  auto host = h().run(R"LUA(page:press("Entr"))LUA");
  EXPECT_TRUE(HostError(host, Kind::config, "page:press", "Entr"));
}

// press() rejects an unknown key before any CDP traffic, i.e. the call ends
// before the script has yielded; the next call must still work.
TEST_P(LuaPage, PageStillWorksAfterAnUnknownKeyError) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local ok = pcall(page.press, page, "NoSuchKey")
    local ok2, title = pcall(page.title, page)
    return { first_failed = not ok, second_ok = ok2, title = tostring(title) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["first_failed"], true);
  EXPECT_EQ(r.value()["second_ok"], true) << r.value();
  EXPECT_EQ(r.value()["title"], "Page 1");
}

// ---------------------------------------------------------------------- text

TEST_P(LuaPage, TextIsTheElementsInnerText) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "item?key=lua-page-text")
    return { heading = page:text("#heading"), key = page:text("#key"),
             count = page:text("#count") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["heading"], "Item lua-page-text");
  EXPECT_EQ(r.value()["key"], "lua-page-text");
  EXPECT_EQ(r.value()["count"], "1");
}

TEST_P(LuaPage, TextOfMissingElementIsNotFound) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return catch(function() page:text("#nope", { timeout = 300 }) end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::not_found}, "page:text", "#nope"));
  auto host = h().run(R"LUA(page:text("#nope", { timeout = 300 }))LUA");
  EXPECT_TRUE(HostError(host, Kind::not_found, "page:text", "#nope"));
}

// ---------------------------------------------------------------- screenshot

bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 8> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const std::array<unsigned char, 8> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return in.gcount() == 8 && head == png;
}

TEST_P(LuaPage, ScreenshotRelativePathLandsInScreenshotsDir) {
  const std::string expected = h().screenshots_dir() + "/shot.png";
  std::filesystem::remove(expected);
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    return page:screenshot("shot.png")
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), expected);
  ASSERT_TRUE(std::filesystem::exists(expected));
  EXPECT_GT(std::filesystem::file_size(expected), 100u);
  EXPECT_TRUE(is_png(expected));
}

TEST_P(LuaPage, ScreenshotAbsolutePathInsideTheCampaignFolderIsUsedAsIs) {
  const std::string path = h().campaign_dir() + "/shots/abs.png";
  auto r = h().run("page:navigate(fixture .. 'page2') return page:screenshot('" + path + "')");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), path);
  EXPECT_TRUE(is_png(path));
  EXPECT_FALSE(std::filesystem::exists(h().screenshots_dir() + "/abs.png"));
}

// The state dir's own files (belay.db, profiles/) are out of reach: only its
// screenshots/, pdf/, downloads/ and files/ folders take captures.
TEST_P(LuaPage, ScreenshotOutsideTheAllowedFoldersIsASandboxError) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return { abs = catch(function() page:screenshot("/nonexistent-belay-dir/x.png") end),
             up = catch(function() page:screenshot("../belay.db") end),
             state = catch(function() page:screenshot(")LUA" +
                                h().state_dir() + R"LUA(/x.png") end) }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value()["abs"], {Kind::sandbox}, "page:screenshot",
                       "'/nonexistent-belay-dir/x.png' is outside the folders scripts may write"));
  EXPECT_TRUE(LuaError(lua.value()["up"], {Kind::sandbox}, "page:screenshot", "../belay.db"));
  EXPECT_TRUE(LuaError(lua.value()["state"], {Kind::sandbox}, "page:screenshot", "x.png"));
  EXPECT_FALSE(std::filesystem::exists(h().state_dir() + "/belay.db"));
  EXPECT_FALSE(std::filesystem::exists(h().state_dir() + "/x.png"));
}

TEST_P(LuaPage, ScreenshotToUnwritablePathIsScriptError) {
  std::filesystem::create_directories(h().campaign_dir() + "/taken.png");
  auto lua = h().run(
      with_catch("page:navigate(fixture .. 'page1') return catch(function() page:screenshot('" +
                 h().campaign_dir() + "/taken.png') end)"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::script}, "page:screenshot", "cannot write"));
}

// --------------------------------------------------------------------- close

TEST_P(LuaPage, CallsOnAClosedPageAreTargetClosed) {
  auto lua = h().run(with_catch(R"LUA(
    local p = browser:new_page()
    p:navigate(fixture .. "page1")
    local before = p:title()
    p:close()
    return {
      before = before,
      title = catch(function() p:title() end),
      evaluate = catch(function() p:evaluate("1") end),
      navigate = catch(function() p:navigate(fixture .. "page2") end),
      wait_for = catch(function() p:wait_for("#heading") end),
      screenshot = catch(function() p:screenshot("closed.png") end),
      close = catch(function() p:close() end),
      other_page_url = page:url(),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["before"], "Page 1");
  EXPECT_TRUE(LuaError(v["title"], {Kind::target_closed}, "page:title"));
  EXPECT_TRUE(LuaError(v["evaluate"], {Kind::target_closed}, "page:evaluate"));
  EXPECT_TRUE(LuaError(v["navigate"], {Kind::target_closed}, "page:navigate"));
  EXPECT_TRUE(LuaError(v["wait_for"], {Kind::target_closed}, "page:wait_for"));
  EXPECT_TRUE(LuaError(v["screenshot"], {Kind::target_closed}, "page:screenshot"));
  EXPECT_TRUE(LuaError(v["close"], {Kind::target_closed}, "page:close"));
  EXPECT_TRUE(v["other_page_url"].is_string()) << "the other page must still work";
  auto host = h().run(R"LUA(
    local p = browser:new_page()
    p:close()
    return p:url()
  )LUA");
  EXPECT_TRUE(HostError(host, Kind::target_closed, "page:url"));
}

// The page goes away behind the script's back (closed through raw CDP).
TEST_P(LuaPage, PageClosedOutsideTheScriptIsTargetClosed) {
  auto lua = h().run(with_catch(R"LUA(
    local p = browser:new_page()
    p:navigate(fixture .. "page1")
    local id = tostring(p):match("^page%((.+)%)$")
    browser:cdp("Target.closeTarget", { targetId = id })
    belay.sleep(200)
    return catch(function() p:title() end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::target_closed}, "page:title"));
}

class LuaPageCrash : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaPageCrash);

// A renderer that crashes (Page.crash) raises target_crashed on the page's
// calls; navigating loads a fresh renderer. Own browser: a crash may take
// other same-site pages with it.
TEST_P(LuaPageCrash, CrashedRendererIsTargetCrashed) {
  LuaHarness h(transport());
  auto lua = h.run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    local crash = catch(function() page:cdp("Page.crash") end)
    belay.sleep(200)
    local title = catch(function() page:title() end)
    local evaluate = catch(function() page:evaluate("1 + 1") end)
    page:navigate(fixture .. "page2")
    return { crash = crash, title = title, evaluate = evaluate, recovered = page:title() }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value()["crash"], {Kind::target_crashed}, "page:cdp"));
  EXPECT_TRUE(LuaError(lua.value()["title"], {Kind::target_crashed}, "page:title"));
  EXPECT_TRUE(LuaError(lua.value()["evaluate"], {Kind::target_crashed}, "page:evaluate"));
  EXPECT_EQ(lua.value()["recovered"], "Page 2");
}

// ----------------------------------------------------------------------- cdp

TEST_P(LuaPage, CdpReturnsTheRawResult) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local res = page:cdp("Runtime.evaluate", { expression = "6*7", returnByValue = true })
    local no_params = page:cdp("Page.getNavigationHistory")
    return { res = res, history_is_table = type(no_params.entries) == "table" }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["res"]["result"]["value"], 42);
  EXPECT_EQ(r.value()["res"]["result"]["type"], "number");
  EXPECT_EQ(r.value()["history_is_table"], true);
}

TEST_P(LuaPage, CdpUnknownMethodIsProtocol) {
  auto lua = h().run(with_catch(R"LUA(
    local r = catch(function() page:cdp("No.suchMethod", {}) end)
    local ok, err = pcall(page.cdp, page, "No.suchMethod")
    r.cdp_code = type(err) == "table" and type(err.cdp) == "table" and err.cdp.code or nil
    return r
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::protocol}, "page:cdp", "No.suchMethod"));
  EXPECT_EQ(lua.value()["cdp_code"], -32601);
  auto host = h().run(R"LUA(page:cdp("No.suchMethod"))LUA");
  EXPECT_TRUE(HostError(host, Kind::protocol, "page:cdp"));
}

TEST_P(LuaPage, CdpParamsMustBeATable) {
  auto lua = h().run(with_catch(R"LUA(
    return catch(function() page:cdp("Runtime.evaluate", "6*7") end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::script}, "page:cdp", "table"));
}

TEST_P(LuaPage, MethodCalledWithoutAPageIsScriptError) {
  auto lua = h().run(with_catch(R"LUA(
    return catch(function() page.title() end)
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::script}, "page:title", "expected a page"));
}

}  // namespace
}  // namespace belay::test
