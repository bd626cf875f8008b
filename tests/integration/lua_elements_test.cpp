// Element actions, reads and selectors from Lua against real headless
// Chromium and the fixture server's pages (/actionable, /inputs, /rerender,
// /keys, /texts): every action waits until its element is ready and says
// which condition failed when it never was; every option table refuses
// unknown keys. Each test runs over the pipe and over the WebSocket.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class LuaElements : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaElements);

// ------------------------------------------------------------- actionability

TEST_P(LuaElements, ClickWaitsForAButtonThatAppearsLater) {
  auto r = h().run(R"LUA(
    -- Late enough that the navigation, even on a loaded machine, is back first.
    page:navigate(fixture .. "actionable?ms=2000")
    local before = page:exists("#late-btn")
    page:click("#late-btn", { timeout = 5000 })
    return { before = before, clicks = page:evaluate("window.clicks") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["before"], false);
  EXPECT_EQ(r.value()["clicks"], json::array({"late-btn"}));
}

TEST_P(LuaElements, ClickWaitsForTheBannerOverItsButtonToGo) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "actionable?banner_ms=400")
    page:click("#covered-btn", { timeout = 5000 })
    return page:evaluate("window.clicks")
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), json::array({"covered-btn"}));
}

TEST_P(LuaElements, ATimeoutSaysWhichConditionFailed) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "actionable?banner_ms=0&enable_ms=0")
    local o = { timeout = 400 }
    return {
      covered = catch(function() page:click("#covered-btn", o) end),
      disabled = catch(function() page:click("#disabled-btn", o) end),
      hidden = catch(function() page:click("#hidden-btn", o) end),
      invisible = catch(function() page:hover("#invisible-btn", o) end),
      missing = catch(function() page:click("#nope", o) end),
      clicks = page:evaluate("window.clicks.length"),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_TRUE(LuaError(v["covered"], {Kind::not_found}, "page:click",
                       "'#covered-btn' is covered by '#cookie-banner' after 400 ms"));
  EXPECT_TRUE(LuaError(v["disabled"], {Kind::not_found}, "page:click",
                       "'#disabled-btn' is disabled after 400 ms"));
  EXPECT_TRUE(LuaError(v["hidden"], {Kind::not_found}, "page:click",
                       "'#hidden-btn' is not visible after 400 ms"));
  EXPECT_TRUE(
      LuaError(v["invisible"], {Kind::not_found}, "page:hover", "'#invisible-btn' is not visible"));
  EXPECT_TRUE(LuaError(v["missing"], {Kind::not_found}, "page:click",
                       "no element matches '#nope' after 400 ms"));
  EXPECT_EQ(v["clicks"], 0);
}

TEST_P(LuaElements, ClickWaitsForADisabledButtonToBeEnabledAndAnAnimationToStop) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "actionable?enable_ms=300")
    page:click("#disabled-btn", { timeout = 5000 })
    page:click("#animated-btn", { timeout = 5000 })
    page:click("#offscreen-btn", { timeout = 5000 })
    return { clicks = page:evaluate("window.clicks"), scrolled = page:evaluate("scrollY > 0") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["clicks"], json::array({"disabled-btn", "animated-btn", "offscreen-btn"}));
  EXPECT_EQ(r.value()["scrolled"], true) << "the offscreen button is scrolled into view";
}

TEST_P(LuaElements, ForceSkipsTheChecksButNotTheElement) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "actionable?banner_ms=0")
    return {
      forced = catch(function() page:click("#covered-btn", { force = true, timeout = 400 }) end),
      missing = catch(function() page:click("#nope", { force = true, timeout = 300 }) end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_EQ(lua.value()["forced"]["ok"], true) << lua.value()["forced"];
  EXPECT_TRUE(LuaError(lua.value()["missing"], {Kind::not_found}, "page:click", "#nope"));
}

TEST_P(LuaElements, ClickOptionsReachThePageAsTrustedMouseEvents) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "actionable")
    page:click("#target", { button = "right" })
    page:click("#target", { modifiers = { "Shift", "Alt" }, position = { x = 10, y = 20 } })
    page:dblclick("#target")
    page:click("#target", { count = 3 })
    return page:evaluate("window.mouseEvents")
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  std::vector<json> downs, clicks;
  bool dblclick = false, contextmenu = false;
  for (const auto& e : r.value()) {
    if (e.contains("trusted")) EXPECT_EQ(e["trusted"], true) << e;
    if (e["type"] == "mousedown") downs.push_back(e);
    if (e["type"] == "click") clicks.push_back(e);
    if (e["type"] == "dblclick") dblclick = true;
    if (e["type"] == "contextmenu") contextmenu = e["button"] == 2;
  }
  EXPECT_TRUE(contextmenu) << r.value();
  EXPECT_TRUE(dblclick) << r.value();
  ASSERT_GE(downs.size(), 2u) << r.value();
  EXPECT_EQ(downs[0]["button"], 2);
  EXPECT_EQ(downs[1]["shift"], true);
  EXPECT_EQ(downs[1]["alt"], true);
  EXPECT_EQ(downs[1]["x"], 10);
  EXPECT_EQ(downs[1]["y"], 20);
  ASSERT_FALSE(clicks.empty());
  EXPECT_EQ(clicks.back()["detail"], 3) << "the third click of a triple click";
}

TEST_P(LuaElements, HoverMovesTheMouseWithoutClicking) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "actionable")
    page:hover("#target")
    return page:evaluate("window.mouseEvents.map(e => e.type)")
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_THAT(r.value().dump(), HasSubstr("mouseover"));
  EXPECT_THAT(r.value().dump(), ::testing::Not(HasSubstr("click")));
}

TEST_P(LuaElements, ClickReResolvesAListThatReRendersUnderIt) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "rerender")
    page:click('button.item[data-n="3"]')
    page:click("text=Item 4")
    return { clicked = page:evaluate("window.clicked"), picked = page:text("#picked"),
             renders = page:evaluate("window.renders") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["clicked"], 4);
  EXPECT_EQ(r.value()["picked"], "picked 4");
  EXPECT_GT(r.value()["renders"].get<int>(), 1);
}

// ---------------------------------------------------------------------- forms

TEST_P(LuaElements, FillReplacesTheValueAndFiresInputAndChange) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "inputs")
    page:fill("#name", "Ada")
    page:fill("#email", "new@x.test")
    page:fill("#bio", "line 1\nline 2")
    page:fill("#editable", "edited")
    page:fill("#date", "2026-12-06")
    page:clear("#name")
    page:fill("#name", "Grace")
    return { snap = page:evaluate("snapshot()"), events = page:evaluate("window.formEvents") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& snap = r.value()["snap"];
  EXPECT_EQ(snap["name"], "Grace");
  EXPECT_EQ(snap["email"], "new@x.test");
  EXPECT_EQ(snap["bio"], "line 1\nline 2");
  EXPECT_EQ(snap["editable"], "edited");
  EXPECT_EQ(snap["date"], "2026-12-06");
  bool trusted_input = false, change = false;
  for (const auto& e : r.value()["events"]) {
    if (e["id"] == "name" && e["type"] == "input" && e["trusted"] == true) trusted_input = true;
    if (e["id"] == "name" && e["type"] == "change") change = true;
  }
  EXPECT_TRUE(trusted_input) << r.value()["events"];
  EXPECT_TRUE(change) << r.value()["events"];
}

TEST_P(LuaElements, FillRefusesWhatCannotTakeText) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    local o = { timeout = 300 }
    return {
      readonly = catch(function() page:fill("#ro", "x", o) end),
      disabled = catch(function() page:fill("#dis", "x", o) end),
      checkbox = catch(function() page:fill("#agree", "x", o) end),
      button = catch(function() page:fill("#submit", "x", o) end),
      no_text = catch(function() page:fill("#name") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_TRUE(LuaError(v["readonly"], {Kind::not_found}, "page:fill", "'#ro' is read-only"));
  EXPECT_TRUE(LuaError(v["disabled"], {Kind::not_found}, "page:fill", "'#dis' is disabled"));
  EXPECT_TRUE(LuaError(v["checkbox"], {Kind::script}, "page:fill", "takes no text"));
  EXPECT_TRUE(LuaError(v["button"], {Kind::script}, "page:fill", "not an <input>"));
  EXPECT_EQ(v["no_text"]["ok"], false);
  EXPECT_THAT(v["no_text"].dump(), HasSubstr("string expected"));
}

TEST_P(LuaElements, SelectPicksByValueOrLabelAndReturnsTheSelection) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    local by_value = page:select("#color", "g")
    local by_label = page:select("#color", "Blue")
    local many = page:select("#tags", { "a", "Gamma" })
    local none = page:select("#tags", {})
    return {
      by_value = by_value, by_label = by_label, many = many, none = #none,
      snap = page:evaluate("snapshot()"),
      missing = catch(function() page:select("#color", "zz", { timeout = 300 }) end),
      two = catch(function() page:select("#color", { "r", "g" }) end),
      not_select = catch(function() page:select("#name", "x") end),
      bad_value = catch(function() page:select("#color", 42) end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["by_value"], json::array({"g"}));
  EXPECT_EQ(v["by_label"], json::array({"b"}));
  EXPECT_EQ(v["many"], json::array({"a", "c"}));
  EXPECT_EQ(v["none"], 0);
  EXPECT_EQ(v["snap"]["color"], "b");
  EXPECT_TRUE(LuaError(v["missing"], {Kind::not_found}, "page:select",
                       "'#color' has no option 'zz' after 300 ms"));
  EXPECT_TRUE(LuaError(v["two"], {Kind::script}, "page:select", "takes one value"));
  EXPECT_TRUE(LuaError(v["not_select"], {Kind::script}, "page:select", "is not a <select>"));
  EXPECT_TRUE(LuaError(v["bad_value"], {Kind::script}, "page:select", "string or a list"));
}

TEST_P(LuaElements, CheckAndUncheckChangeStateOnlyWhenNeeded) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    page:check("#agree")
    page:check("#agree")          -- already checked: no click
    page:uncheck("#news")
    page:check("#plan-pro")
    return {
      agree = page:is_checked("#agree"), news = page:is_checked("#news"),
      snap = page:evaluate("snapshot()"),
      changes = page:evaluate(
        "formEvents.filter(e => e.id == 'agree' && e.type == 'change').length"),
      radio_off = catch(function() page:uncheck("#plan-pro") end),
      refused = catch(function() page:check("#locked") end),
      not_box = catch(function() page:check("#name") end),
      not_box_read = catch(function() page:is_checked("#name") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["agree"], true);
  EXPECT_EQ(v["news"], false);
  EXPECT_EQ(v["snap"]["plan"], "pro");
  EXPECT_EQ(v["changes"], 1) << "the second check must not click again";
  EXPECT_TRUE(LuaError(v["radio_off"], {Kind::script}, "page:uncheck", "radio button"));
  EXPECT_TRUE(LuaError(v["refused"], {Kind::script}, "page:check", "did not check"));
  EXPECT_TRUE(LuaError(v["not_box"], {Kind::script}, "page:check", "not a checkbox"));
  EXPECT_TRUE(LuaError(v["not_box_read"], {Kind::script}, "page:is_checked", "not a checkbox"));
}

// ------------------------------------------------------------------ keyboard

TEST_P(LuaElements, ControlAThenTypingReplacesTheText) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "keys")
    page:type("#field", "hello")
    page:press("Control+A")
    page:press("z")
    return { value = page:value("#field"),
             ctrl_a = page:evaluate("keys.some(k => k.code == 'KeyA' && k.ctrl && k.trusted)") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["value"], "z");
  EXPECT_EQ(r.value()["ctrl_a"], true);
}

TEST_P(LuaElements, ShiftTabMovesTheFocusBackAndShiftTypesCapitals) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "keys")
    page:focus("#area")
    page:press("Shift+Tab")
    local focused = page:evaluate("document.activeElement.id")
    page:press("Shift+q")
    return { focused = focused, value = page:value("#field"),
             order = page:evaluate("focusOrder") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["focused"], "field");
  EXPECT_EQ(r.value()["value"], "Q");
  EXPECT_EQ(r.value()["order"], json::array({"area", "field"}));
}

TEST_P(LuaElements, TypeWithADelayPausesBetweenKeys) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "keys")
    local t0 = belay.now()
    page:type("#area", "abc", { delay = 60 })
    return { ms = belay.now() - t0, value = page:value("#area"),
             trusted = page:evaluate("keys.every(k => k.trusted)") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["value"], "abc");
  EXPECT_EQ(r.value()["trusted"], true);
  EXPECT_GE(r.value()["ms"].get<int>(), 120) << "two pauses of 60 ms between three keys";
}

// ---------------------------------------------------------- reads, selectors

TEST_P(LuaElements, ReadsOfElementsAndTheDocument) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "texts")
    return {
      text = page:text("#b1"), texts = page:texts("#fruits li"), none = #page:texts("#nope"),
      count = page:count("button"), zero = page:count("#nope"),
      attr = page:attr("#x", "data-k"), no_attr = page:attr("#x", "nope") == nil,
      html = page:html("#inner"), doc = page:html(),
      visible = page:is_visible("#b1"), hidden = page:is_visible("#hidden-text"),
      missing_visible = page:is_visible("#nope"), exists = page:exists("#b2"),
    }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value();
  EXPECT_EQ(v["text"], "Sign in");
  EXPECT_EQ(v["texts"], json::array({"Apple", "Banana", "Cherry"}));
  EXPECT_EQ(v["none"], 0);
  EXPECT_EQ(v["count"], 2);
  EXPECT_EQ(v["zero"], 0);
  EXPECT_EQ(v["attr"], "v");
  EXPECT_EQ(v["no_attr"], true);
  EXPECT_EQ(v["html"], "<b id=\"inner\">Deep Text</b>");
  EXPECT_THAT(v["doc"].get<std::string>(), HasSubstr("Sign in with SSO"));
  EXPECT_THAT(v["doc"].get<std::string>(), HasSubstr("<html"));
  EXPECT_EQ(v["visible"], true);
  EXPECT_EQ(v["hidden"], false);
  EXPECT_EQ(v["missing_visible"], false);
  EXPECT_EQ(v["exists"], true);
}

TEST_P(LuaElements, ValueReadsInputsAndRefusesOtherElements) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    return { email = page:value("#email"), color = page:value("#color"),
             div = catch(function() page:value("#editable") end),
             late = catch(function() page:value("#nope", { timeout = 300 }) end) }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_EQ(lua.value()["email"], "old@x.test");
  EXPECT_EQ(lua.value()["color"], "r");
  EXPECT_TRUE(LuaError(lua.value()["div"], {Kind::script}, "page:value", "not an <input>"));
  EXPECT_TRUE(LuaError(lua.value()["late"], {Kind::not_found}, "page:value", "#nope"));
}

TEST_P(LuaElements, TextAndXPathSelectors) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "texts")
    return {
      substring = page:attr("text=sign in", "id"),
      both = page:count("text=sign in"),
      exact = page:attr('text="Sign in with SSO"', "id"),
      exact_case = page:count('text="sign in"'),
      spaces = page:attr("text=Forgot password?", "id"),
      deepest = page:attr("text=Deep", "id"),
      hidden = page:count("text=Secret text"),
      xpath = page:attr("xpath=//a[@id='x']", "title"),
      xpath_count = page:count("xpath=//li"),
      bad_css = catch(function() page:count("##x") end),
      bad_xpath = catch(function() page:count("xpath=//[") end),
      empty = catch(function() page:count("") end),
      frames = catch(function() page:exists("#fr >>> #h") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["substring"], "b1");
  EXPECT_EQ(v["both"], 2);
  EXPECT_EQ(v["exact"], "b2");
  EXPECT_EQ(v["exact_case"], 0);
  EXPECT_EQ(v["spaces"], "l1");
  EXPECT_EQ(v["deepest"], "inner");
  EXPECT_EQ(v["hidden"], 0) << "text= matches visible text only";
  EXPECT_EQ(v["xpath"], "T");
  EXPECT_EQ(v["xpath_count"], 3);
  EXPECT_TRUE(LuaError(v["bad_css"], {Kind::script}, "page:count", "is not a valid selector"));
  EXPECT_TRUE(LuaError(v["bad_xpath"], {Kind::script}, "page:count", "not a valid XPath"));
  EXPECT_TRUE(LuaError(v["empty"], {Kind::script}, "page:count", "empty"));
  EXPECT_TRUE(LuaError(v["frames"], {Kind::script}, "page:exists", "not a valid selector"));
}

// --------------------------------------------------------------------- waits

TEST_P(LuaElements, WaitForVisibleAndHidden) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "late?ms=300")
    return {
      hidden_now = page:wait_for("#hidden", { hidden = true, timeout = 300 }),
      missing_is_hidden = page:wait_for("#nope", { hidden = true, timeout = 300 }),
      late = page:wait_for("#late", { visible = true, timeout = 5000 }),
      still = catch(function() page:wait_for("#late", { hidden = true, timeout = 300 }) end),
      both = catch(function() page:wait_for("#late", { hidden = true, visible = true }) end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["hidden_now"], true);
  EXPECT_EQ(v["missing_is_hidden"], true);
  EXPECT_EQ(v["late"], true);
  EXPECT_TRUE(LuaError(v["still"], {Kind::not_found}, "page:wait_for", "is still visible"));
  EXPECT_TRUE(LuaError(v["both"], {Kind::config}, "page:wait_for", "exclude each other"));
}

TEST_P(LuaElements, NavigateWaitsForNetworkIdleOrOnlyTheCommit) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1", { wait = "networkidle" })
    local idle = page:title()
    page:navigate(fixture .. "page2", { wait = "commit" })
    page:wait_for("#to-page3")
    return { idle = idle, title = page:title() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["idle"], "Page 1");
  EXPECT_EQ(r.value()["title"], "Page 2");
}

TEST_P(LuaElements, WaitForFunctionReturnsTheFirstTruthyValue) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    page:evaluate("setTimeout(() => { window.ready = { n: 3 }; window.sum = 5; }, 300)")
    local ready = page:wait_for_function("window.ready")
    local sum = page:wait_for_function("(a, b) => window.sum === a + b && window.sum", nil, 2, 3)
    page:navigate(fixture .. "navigate-away?ms=200&to=/page2")
    local moved = page:wait_for_function("document.title == 'Page 2'", { polling_ms = 20 })
    return {
      ready = ready, sum = sum, moved = moved,
      never = catch(function() page:wait_for_function("0", { timeout = 300 }) end),
      throws = catch(function() page:wait_for_function("nope.x") end),
      polling = catch(function() page:wait_for_function("1", { polling_ms = 1 }) end),
      arg = catch(function() page:wait_for_function("(f) => f", nil, print) end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["ready"], json::parse(R"({"n":3})"));
  EXPECT_EQ(v["sum"], 5);
  EXPECT_EQ(v["moved"], true);
  EXPECT_TRUE(LuaError(v["never"], {Kind::timeout}, "page:wait_for_function",
                       "no truthy value within 300 ms (last: 0)"));
  EXPECT_TRUE(LuaError(v["throws"], {Kind::js_exception}, "page:wait_for_function", "nope"));
  EXPECT_TRUE(LuaError(v["polling"], {Kind::config}, "page:wait_for_function", "polling_ms"));
  EXPECT_TRUE(LuaError(v["arg"], {Kind::script}, "page:wait_for_function", "argument 1"));
}

TEST_P(LuaElements, WaitForUrlTakesAGlobOrAFunction) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    page:click("#to-page2")
    local by_glob = page:wait_for_url("**/page2")
    page:click("#to-page3")
    local seen = {}
    local by_fn = page:wait_for_url(function(url)
      seen[#seen + 1] = url
      return url:find("page3", 1, true) ~= nil
    end)
    return {
      by_glob = by_glob, by_fn = by_fn, looked = #seen > 0,
      never = catch(function() page:wait_for_url("**/never", { timeout = 300 }) end),
      bad = catch(function() page:wait_for_url(5) end),
      opts = catch(function() page:wait_for_url("**", { timout = 5 }) end),
      raises = catch(function() page:wait_for_url(function() error("mine") end) end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["by_glob"], h().fixture().url("/page2"));
  EXPECT_EQ(v["by_fn"], h().fixture().url("/page3"));
  EXPECT_EQ(v["looked"], true);
  EXPECT_TRUE(LuaError(v["never"], {Kind::timeout}, "page:wait_for_url", "did not match"));
  EXPECT_TRUE(LuaError(v["bad"], {Kind::script}, "page:wait_for_url", "a glob string"));
  EXPECT_TRUE(LuaError(v["opts"], {Kind::config}, "page:wait_for_url", "did you mean 'timeout'"));
  EXPECT_EQ(v["raises"]["ok"], false);
  EXPECT_THAT(v["raises"].dump(), HasSubstr("mine"));
}

// The campaign's `timeouts.action` is the default of calls that name none.
TEST_P(LuaElements, TheDefaultActionTimeoutComesFromTheHost) {
  const uint64_t saved = h().runtime().hooks().action_timeout_ms;
  h().runtime().hooks().action_timeout_ms = 250;
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "page1")
    return catch(function() page:click("#nope") end)
  )LUA"));
  h().runtime().hooks().action_timeout_ms = saved;
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value(), {Kind::not_found}, "page:click", "after 250 ms"));
}

// ------------------------------------------------------------ strict options

TEST_P(LuaElements, EveryOptionTableRefusesUnknownKeysWithANearMiss) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    return {
      click = catch(function() page:click("#submit", { buton = "right" }) end),
      button = catch(function() page:click("#submit", { button = "rigth" }) end),
      type = catch(function() page:type("#name", "x", { dealy = 50 }) end),
      navigate = catch(function() page:navigate(fixture, { waitUntil = "networkidle0" }) end),
      wait = catch(function() page:navigate(fixture, { wait = "networkidle0" }) end),
      shot = catch(function() page:screenshot("x.png", { fullPage = true }) end),
      not_table = catch(function() page:click("#submit", 5) end),
      timeout = catch(function() page:wait_for("#name", { timeout = -1 }) end),
      modifiers = catch(function() page:click("#submit", { modifiers = { "Shfit" } }) end),
      title = catch(function() page:title({ timeot = 5 }) end),
      browser = catch(function() browser:version({ x = 1 }) end),
      dbl_count = catch(function() page:dblclick("#submit", { count = 2 }) end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_TRUE(LuaError(v["click"], {Kind::config}, "page:click",
                       "unknown option 'buton' for page:click (did you mean 'button'?); valid: "
                       "button, count, modifiers, position, force, timeout"));
  EXPECT_TRUE(LuaError(v["button"], {Kind::config}, "page:click", "(did you mean 'right'?)"));
  EXPECT_TRUE(LuaError(v["type"], {Kind::config}, "page:type", "(did you mean 'delay'?)"));
  EXPECT_TRUE(
      LuaError(v["navigate"], {Kind::config}, "page:navigate", "unknown option 'waitUntil'"));
  EXPECT_TRUE(
      LuaError(v["wait"], {Kind::config}, "page:navigate", "(did you mean 'networkidle'?)"));
  EXPECT_TRUE(LuaError(v["shot"], {Kind::config}, "page:screenshot",
                       "unknown option 'fullPage' for page:screenshot (did you mean 'full_page'?)"));
  EXPECT_TRUE(LuaError(v["not_table"], {Kind::config}, "page:click", "must be a table"));
  EXPECT_TRUE(LuaError(v["timeout"], {Kind::config}, "page:wait_for", "'timeout'"));
  EXPECT_TRUE(LuaError(v["modifiers"], {Kind::config}, "page:click", "(did you mean 'Shift'?)"));
  EXPECT_TRUE(LuaError(v["title"], {Kind::config}, "page:title", "(did you mean 'timeout'?)"));
  EXPECT_TRUE(LuaError(v["browser"], {Kind::config}, "browser:version", "unknown option 'x'"));
  EXPECT_TRUE(LuaError(v["dbl_count"], {Kind::config}, "page:dblclick", "unknown option 'count'"));
}

TEST_P(LuaElements, ArgumentsOfTheWrongTypeAreScriptErrors) {
  auto lua = h().run(with_catch(R"LUA(
    page:navigate(fixture .. "inputs")
    return {
      selector = catch(function() page:click({}) end),
      text = catch(function() page:fill("#name", {}) end),
      keys = catch(function() page:press(nil) end),
      attr = catch(function() page:attr("#name") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  // Lua's own argument errors, as pcall sees them ...
  const json& v = lua.value();
  EXPECT_THAT(v["selector"].value("plain", ""),
              HasSubstr("bad argument #1 to 'click' (string expected, got table)"));
  EXPECT_THAT(v["text"].value("plain", ""),
              HasSubstr("bad argument #2 to 'fill' (string expected, got table)"));
  EXPECT_THAT(v["keys"].value("plain", ""),
              HasSubstr("bad argument #1 to 'press' (string expected, got nil)"));
  EXPECT_THAT(v["attr"].value("plain", ""),
              HasSubstr("bad argument #2 to 'attr' (string expected, got no value)"));
  // ... and a `script` error when one ends the item.
  auto host = h().run(R"LUA(page:click({}))LUA");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, Kind::script);
  EXPECT_THAT(host.error().message, HasSubstr("bad argument #1 to 'click'"));
}

}  // namespace
}  // namespace belay::test
