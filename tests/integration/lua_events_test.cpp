// page:on, page:off, page:expect and dialogs, from Lua against real headless
// Chromium and the fixture server, over the pipe and over the WebSocket.
// Handlers are tasks of their own that run after the event, so a snippet
// that waits for them polls (until(), below) rather than assuming an order
// between its own calls and its handlers.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaEvents : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaEvents);

// until(fn): polls fn every 20 ms for up to 5 s; raises when it never holds.
const char* const kUntil = R"LUA(
  local function until_(fn, what)
    for _ = 1, 250 do
      if fn() then return end
      belay.sleep(20)
    end
    error("never happened: " .. (what or "?"))
  end
)LUA";

std::string with_until(const std::string& body) { return kUntil + body; }

size_t count_events(LuaHarness& h, const std::string& name) {
  size_t n = 0;
  for (const auto& [event, params] : h.events()) n += event == name ? 1 : 0;
  return n;
}

// ------------------------------------------------------------------ dialogs

// No handler: alert, confirm and prompt are answered by the policy
// (dismiss), so the evaluate that opened each returns instead of timing out.
TEST_P(LuaEvents, DialogsWithoutAHandlerNeverBlock) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local t0 = belay.now()
    local alerted = page:evaluate("alert('hello'), 'after alert'", { timeout = 5000 })
    local confirmed = page:evaluate("confirm('sure?')", { timeout = 5000 })
    local prompted = page:evaluate("prompt('name?', 'ann')", { timeout = 5000 })
    return { alerted = alerted, confirmed = confirmed, prompted = prompted or "null",
             ms = belay.now() - t0 }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["alerted"], "after alert");
  EXPECT_EQ(r.value()["confirmed"], false);
  EXPECT_EQ(r.value()["prompted"], "null");
}

// A handler decides: it sees type, message and default, accepts a confirm,
// answers a prompt with its own text, and leaves the alert to the policy.
TEST_P(LuaEvents, ADialogHandlerAnswersAndLeavesTheRestToThePolicy) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local seen = {}
    page:on("dialog", function(d)
      seen[#seen + 1] = d.type .. "|" .. d.message .. "|" .. d.default
      if d.type == "confirm" then d:accept()
      elseif d.type == "prompt" then d:accept("typed") end
    end)
    local alerted = page:evaluate("alert('a1'), 1", { timeout = 5000 })
    local confirmed = page:evaluate("confirm('c1')", { timeout = 5000 })
    local prompted = page:evaluate("prompt('p1', 'dflt')", { timeout = 5000 })
    return { seen = seen, alerted = alerted, confirmed = confirmed, prompted = prompted }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["seen"], json({"alert|a1|", "confirm|c1|", "prompt|p1|dflt"}));
  EXPECT_EQ(r.value()["alerted"], 1);
  EXPECT_EQ(r.value()["confirmed"], true);
  EXPECT_EQ(r.value()["prompted"], "typed");
}

// A handler that raises is a handler_failed event; the policy answers the
// dialog and the snippet (the item) goes on.
TEST_P(LuaEvents, ADialogHandlerThatRaisesIsLoggedAndThePolicyAnswers) {
  const size_t before = count_events(h(), "handler_failed");
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    page:on("dialog", function(d) error("handler broke") end)
    return page:evaluate("confirm('x')", { timeout = 5000 })
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), false);
  ASSERT_EQ(count_events(h(), "handler_failed"), before + 1);
  json last;
  for (const auto& [event, params] : h().events()) {
    if (event == "handler_failed") last = params;
  }
  EXPECT_EQ(last["handler"], "page:on('dialog')");
  EXPECT_EQ(last["kind"], "script");
  EXPECT_THAT(last["message"].get<std::string>(), ::testing::HasSubstr("handler broke"));
}

// A dialog stops the page's scripts, so a handler waiting on the page (a
// console handler's evaluate) would hold back a dialog handler queued
// behind it until its timeout. Dialog handlers have a line of their own:
// the dialog is answered and the waiting evaluate returns.
TEST_P(LuaEvents, ADialogHandlerIsNotHeldBackByAHandlerWaitingOnThePage) {
  auto r = h().run(with_until(R"LUA(
    page:navigate(fixture .. "page1")
    local evaluated, dialog
    page:on("console", function()
      local ok, v = pcall(page.evaluate, page, "'page answered'", { timeout = 5000 })
      evaluated = ok and v or v.kind
    end)
    page:on("dialog", function(d) dialog = d.message; d:accept() end)
    page:evaluate("setTimeout(() => { console.log('x'); alert('stop') }, 0), 1")
    until_(function() return evaluated ~= nil end, "the console handler's evaluate")
    return { evaluated = evaluated, dialog = dialog }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["evaluated"], "page answered");
  EXPECT_EQ(r.value()["dialog"], "stop");
}

// A dialog is answered once: a second decision raises in the handler.
TEST_P(LuaEvents, AnsweringADialogTwiceRaises) {
  auto r = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    local second
    page:on("dialog", function(d)
      d:dismiss()
      second = catch(function() d:accept() end)
    end)
    page:evaluate("confirm('x')", { timeout = 5000 })
    for _ = 1, 100 do if second then break end belay.sleep(20) end
    return second
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(LuaError(r.value(), {Kind::script}, "", "answered already")) << r.value();
}

// beforeunload: the page asks before it is left (it has had a user gesture:
// evaluate runs as one). Without a handler the policy accepts it even
// though the policy dismisses other dialogs; a handler sees its type.
TEST_P(LuaEvents, BeforeUnloadIsAcceptedSoLeavingThePageNeverSticks) {
  auto r = h().run(R"LUA(
    local function guarded()
      page:navigate(fixture .. "page1")
      page:evaluate([[window.addEventListener('beforeunload', (e) => {
        e.preventDefault(); e.returnValue = 'stay?'; }), true]])
      page:click("h1")
    end
    guarded()
    page:navigate(fixture .. "page2", { timeout = 10000 })
    local first = page:title()
    local types = {}
    page:on("dialog", function(d) types[#types + 1] = d.type end)
    guarded()
    page:navigate(fixture .. "page3", { timeout = 10000 })
    return { first = first, second = page:title(), types = types }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["first"], "Page 2");
  EXPECT_EQ(r.value()["second"], "Page 3");
  EXPECT_EQ(r.value()["types"], json({"beforeunload"}));
}

// ------------------------------------------------------------------- events

// Console messages and an uncaught exception reach their handlers, in the
// page's order, even when the first handler is slow.
TEST_P(LuaEvents, ConsoleAndPageErrorReachHandlersInOrder) {
  auto r = h().run(with_until(R"LUA(
    page:navigate(fixture .. "page1")
    local lines, errors = {}, {}
    page:on("console", function(m)
      if #lines == 0 then belay.sleep(100) end
      lines[#lines + 1] = m.type .. ":" .. m.text
    end)
    page:on("pageerror", function(e) errors[#errors + 1] = e.message end)
    page:evaluate([[console.log('one', 2, true); console.warn('two');
                    console.error('three'); setTimeout(() => { throw new Error('boom') }, 0)]])
    until_(function() return #lines == 3 and #errors == 1 end, "three lines and an error")
    return { lines = lines, errors = errors }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["lines"], json({"log:one 2 true", "warning:two", "error:three"}));
  EXPECT_THAT(r.value()["errors"][0].get<std::string>(), ::testing::HasSubstr("boom"));
}

// A navigation's events: the frame navigates, then DOMContentLoaded, then
// load; request and response carry the document's URL and status. Only
// page2's are kept: /page1's favicon request may still be answered after
// the handlers are in place (it once came first, a 404, in CI).
TEST_P(LuaEvents, NavigationEventsComeInTheirOrder) {
  auto r = h().run(with_until(R"LUA(
    page:navigate(fixture .. "page1")
    local seen, requests, responses = {}, {}, {}
    for _, name in ipairs({ "framenavigated", "domcontentloaded", "load" }) do
      page:on(name, function(e)
        seen[#seen + 1] = name .. (e.url and (" " .. e.url) or "")
      end)
    end
    local function page2(url) return url:sub(-6) == "/page2" end
    page:on("request", function(q)
      if page2(q.url) then requests[#requests + 1] = q.method .. " " .. q.url .. " " .. q.resource_type end
    end)
    page:on("response", function(s)
      if page2(s.url) then responses[#responses + 1] = s.status .. " " .. s.url end
    end)
    page:navigate(fixture .. "page2")
    until_(function() return #seen == 3 and #responses >= 1 end, "three events and a response")
    return { seen = seen, request = requests[1], response = responses[1] }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const std::string page2 = h().fixture().url("/page2");
  EXPECT_EQ(r.value()["seen"], json({"framenavigated " + page2, "domcontentloaded", "load"}));
  EXPECT_EQ(r.value()["request"], "GET " + page2 + " document");
  EXPECT_EQ(r.value()["response"], "200 " + page2);
}

// A request the page cannot make is a requestfailed event with Chrome's
// error text.
TEST_P(LuaEvents, AFailedRequestIsRequestFailed) {
  auto r = h().run(with_until(R"LUA(
    page:navigate(fixture .. "page1")
    local failed = {}
    page:on("requestfailed", function(f) failed[#failed + 1] = f end)
    page:evaluate("fetch('http://127.0.0.1:1/nothing').catch(() => 0), 1")
    until_(function() return #failed == 1 end, "a failed request")
    return failed[1]
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["url"], "http://127.0.0.1:1/nothing");
  EXPECT_THAT(r.value()["error"].get<std::string>(), ::testing::HasSubstr("net::ERR_"));
}

// A page closed by the script tells its close handler.
TEST_P(LuaEvents, ClosingAPageTellsItsCloseHandler) {
  auto r = h().run(with_until(R"LUA(
    local other = browser:new_page()
    local closed
    other:on("close", function(e) closed = e.kind end)
    other:close()
    until_(function() return closed ~= nil end, "the close event")
    return closed
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), "target_closed");
}

// page:off ends one subscription (true the first time, false after); the
// task's end ends the rest: a later snippet's console messages reach
// nobody, and no handler_failed is logged for them.
TEST_P(LuaEvents, SubscriptionsEndWithOffAndWithTheirTask) {
  auto first = h().run(with_until(R"LUA(
    page:navigate(fixture .. "page1")
    local kept, dropped = 0, 0
    local sub = page:on("console", function() dropped = dropped + 1 end)
    page:on("console", function() kept = kept + 1 end)
    local off1, off2 = page:off(sub), page:off(sub)
    page:on("console", function() belay.log.info("left over handler ran") end)
    page:evaluate("console.log('x')")
    until_(function() return kept == 1 end, "the kept handler")
    return { off1 = off1, off2 = off2, dropped = dropped, text = tostring(sub) }
  )LUA"));
  ASSERT_TRUE(first.ok()) << ok_text(first);
  EXPECT_EQ(first.value()["off1"], true);
  EXPECT_EQ(first.value()["off2"], false);
  EXPECT_EQ(first.value()["dropped"], 0);
  EXPECT_EQ(first.value()["text"], "subscription(ended)");
  size_t left_over = 0;
  for (const auto& [level, line] : h().logs()) left_over += line == "left over handler ran";
  auto second = h().run(R"LUA(
    page:evaluate("console.log('y')")
    belay.sleep(300)
  )LUA");
  ASSERT_TRUE(second.ok()) << ok_text(second);
  size_t after = 0;
  for (const auto& [level, line] : h().logs()) after += line == "left over handler ran";
  EXPECT_EQ(after, left_over) << "a handler outlived the task that made it";
}

// A handler that raises is handler_failed and the task goes on; a handler
// may itself call the browser.
TEST_P(LuaEvents, AHandlerThatRaisesIsLoggedAndOthersMayCallTheBrowser) {
  const size_t before = count_events(h(), "handler_failed");
  auto r = h().run(with_until(R"LUA(
    page:navigate(fixture .. "page1")
    local title
    page:on("console", function() error({ reason = "not a string" }) end)
    page:on("console", function() title = page:title() end)
    page:evaluate("console.log('x')")
    until_(function() return title ~= nil end, "the title")
    return title
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), "Page 1");
  EXPECT_EQ(count_events(h(), "handler_failed"), before + 1);
}

// ------------------------------------------------------------------- expect

// expect subscribes before the action runs, so an event the action causes
// at once is never missed; the predicate picks which one.
TEST_P(LuaEvents, ExpectReturnsTheFirstMatchingEventTheActionCaused) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local any = page:expect("console", nil, function()
      page:evaluate("console.log('first'); console.log('second')")
    end)
    local picked = page:expect("console", {
      predicate = function(m) return m.text == "two" end, timeout = 5000,
    }, function() page:evaluate("console.log('one'); console.log('two')") end)
    local dialog = page:expect("dialog", {}, function()
      page:evaluate("alert('hi'), 1", { timeout = 5000 })
    end)
    local loaded = page:expect("load", {}, function() page:navigate(fixture .. "page2") end)
    return { any = any.text, picked = picked.text, dialog = dialog.message,
             loaded = type(loaded) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["any"], "first");
  EXPECT_EQ(r.value()["picked"], "two");
  EXPECT_EQ(r.value()["dialog"], "hi");
  EXPECT_EQ(r.value()["loaded"], "table");
}

// No matching event in time is a timeout; an action that raises raises
// through expect, unchanged.
TEST_P(LuaEvents, ExpectTimesOutOrRaisesTheActionsError) {
  auto r = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return {
      timeout = catch(function()
        page:expect("console", { timeout = 300 }, function() end)
      end),
      unmatched = catch(function()
        page:expect("console", { timeout = 300, predicate = function() return false end },
          function() page:evaluate("console.log('no')") end)
      end),
      action = catch(function()
        page:expect("console", {}, function() belay.error("not_found", "from the action") end)
      end),
    }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(LuaError(r.value()["timeout"], {Kind::timeout}, "page:expect", "300 ms"));
  EXPECT_TRUE(LuaError(r.value()["unmatched"], {Kind::timeout}, "page:expect", "console"));
  EXPECT_TRUE(LuaError(r.value()["action"], {Kind::not_found}, "", "from the action"));
}

// ------------------------------------------------------------------ popups

// A window.open popup and a target=_blank tab: each is a page of its own,
// handed to the opener's handlers and to page:expect, that works like any.
TEST_P(LuaEvents, PopupsArePagesOfTheirOwn) {
  auto r = h().run(with_until(R"LUA(
    page:navigate(fixture .. "popup")
    local before = #browser:pages()
    local seen, popups = {}, {}
    page:on("popup", function(p)
      popups[#popups + 1] = p
      p:wait_for_function("document.readyState === 'complete' && document.title !== ''")
      seen[#seen + 1] = p:title()
    end)
    local popup = page:expect("popup", nil, function() page:click("#open") end)
    popup:wait_for("#to-page1")
    local title = popup:title()
    local str = tostring(popup)
    -- The popup is in front now: Chromium held a click on the opener about
    -- 5 s until belay brought the opener's tab to front first.
    page:click("#blank", { timeout = 3000 })
    until_(function() return #seen == 2 end, "two popups seen by the handler")
    table.sort(seen)
    local with_popups = #browser:pages()
    for _, p in ipairs(popups) do p:close() end
    return { title = title, seen = seen, added = with_popups - before,
             after = #browser:pages() - before, str = str:sub(1, 5) }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["title"], "Page 3");
  EXPECT_EQ(r.value()["seen"], json::parse(R"(["Page 2", "Page 3"])"));
  EXPECT_EQ(r.value()["str"], "page(");
  EXPECT_EQ(r.value()["added"], 2);
  EXPECT_EQ(r.value()["after"], 0);
}

// ---------------------------------------------------------------- bad input

TEST_P(LuaEvents, BadArgumentsAreClearErrors) {
  auto r = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return {
      unknown = catch(function() page:on("consol", function() end) end),
      not_fn = catch(function() page:on("console", 42) end),
      off = catch(function() page:off("console") end),
      action = catch(function() page:expect("load", {}, "click") end),
      option = catch(function() page:expect("load", { timout = 5 }, function() end) end),
    }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(LuaError(r.value()["unknown"], {Kind::config}, "page:on", "did you mean 'console'"));
  EXPECT_TRUE(LuaError(r.value()["unknown"], {Kind::config}, "page:on", "framenavigated"));
  EXPECT_TRUE(LuaError(r.value()["not_fn"], {Kind::script}, "page:on", "function"));
  EXPECT_TRUE(LuaError(r.value()["off"], {Kind::script}, "page:off", "subscription"));
  EXPECT_TRUE(LuaError(r.value()["action"], {Kind::script}, "page:expect", "function"));
  EXPECT_TRUE(LuaError(r.value()["option"], {Kind::config}, "page:expect", "timout"));
}

}  // namespace
}  // namespace belay::test
