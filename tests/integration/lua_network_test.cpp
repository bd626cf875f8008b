// Cookies and per-page request settings from Lua, against real headless
// Chromium and the fixture server, over the pipe and over the WebSocket:
// browser:cookies/set_cookies/clear_cookies, page:set_extra_headers,
// page:set_user_agent, page:set_viewport.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaNetwork : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaNetwork);

// A cookie set from Lua is sent by the page and read back after a
// navigation; one the page sets itself is read back too; urls filters; a
// clear leaves none.
TEST_P(LuaNetwork, CookiesAreSetReadBackAndCleared) {
  auto r = h().run(R"LUA(
    browser:clear_cookies()
    page:navigate(fixture .. "page1")
    browser:set_cookies({
      { name = "session", value = "s1", url = fixture, http_only = true },
      { name = "theme", value = "dark", domain = "127.0.0.1", path = "/", same_site = "Lax",
        expires = belay.now() / 1000 + 3600 },
    })
    page:navigate(fixture .. "page2")
    local seen_by_page = page:evaluate("document.cookie")
    page:evaluate("document.cookie = 'from_page=yes; path=/'")
    local all = browser:cookies()
    local by_name = {}
    for _, c in ipairs(all) do by_name[c.name] = c end
    local for_fixture = #browser:cookies(fixture .. "page1")
    local elsewhere = #browser:cookies({ "http://example.test/" })
    local echoed = page:navigate(fixture .. "echo-headers") and page:evaluate("document.body.innerText")
    browser:clear_cookies()
    return { seen_by_page = seen_by_page, session = by_name.session, theme = by_name.theme,
             from_page = by_name.from_page and by_name.from_page.value, count = #all,
             for_fixture = for_fixture, elsewhere = elsewhere,
             cookie_header = belay.json.decode(echoed).cookie,
             after_clear = #browser:cookies() }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value();
  EXPECT_EQ(v["seen_by_page"], "theme=dark") << "http_only hides 'session' from the page";
  EXPECT_EQ(v["session"]["value"], "s1");
  EXPECT_EQ(v["session"]["http_only"], true);
  EXPECT_EQ(v["session"]["domain"], "127.0.0.1");
  EXPECT_FALSE(v["session"].contains("expires")) << "a session cookie has no expiry";
  EXPECT_EQ(v["theme"]["same_site"], "Lax");
  EXPECT_TRUE(v["theme"]["expires"].is_number());
  EXPECT_EQ(v["from_page"], "yes");
  EXPECT_EQ(v["count"], 3);
  EXPECT_EQ(v["for_fixture"], 3);
  EXPECT_EQ(v["elsewhere"], 0);
  EXPECT_THAT(v["cookie_header"].get<std::string>(), ::testing::HasSubstr("session=s1"));
  EXPECT_EQ(v["after_clear"], 0);
}

TEST_P(LuaNetwork, BadCookiesAreConfigErrors) {
  auto r = h().run(with_catch(R"LUA(
    return {
      not_list = catch(function() browser:set_cookies("a=b") end),
      no_name = catch(function() browser:set_cookies({ { value = "v", url = fixture } }) end),
      no_where = catch(function() browser:set_cookies({ { name = "n", value = "v" } }) end),
      unknown = catch(function()
        browser:set_cookies({ { name = "n", value = "v", url = fixture, httpOnly = true } })
      end),
      same_site = catch(function()
        browser:set_cookies({ { name = "n", value = "v", url = fixture, same_site = "lax" } })
      end),
      urls = catch(function() browser:cookies({ 42 }) end),
    }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(LuaError(r.value()["not_list"], {Kind::config}, "browser:set_cookies", "list"));
  EXPECT_TRUE(LuaError(r.value()["no_name"], {Kind::config}, "browser:set_cookies",
                       "cookie 1 needs a name"));
  EXPECT_TRUE(
      LuaError(r.value()["no_where"], {Kind::config}, "browser:set_cookies", "url or a domain"));
  EXPECT_TRUE(LuaError(r.value()["unknown"], {Kind::config}, "browser:set_cookies",
                       "did you mean 'http_only'"));
  EXPECT_TRUE(LuaError(r.value()["same_site"], {Kind::config}, "browser:set_cookies", "Lax"));
  EXPECT_TRUE(LuaError(r.value()["urls"], {Kind::config}, "browser:cookies", "strings"));
}

// Extra headers and the user agent reach the server (which echoes what it
// got); the user agent is navigator.userAgent too; the viewport is what
// the page measures.
TEST_P(LuaNetwork, HeadersUserAgentAndViewportApplyToThePage) {
  auto r = h().run(R"LUA(
    local other = browser:new_page()
    other:set_extra_headers({ ["X-Campaign"] = "greet", ["X-Try"] = "2" })
    other:set_user_agent("belay-test/1.0")
    other:set_viewport({ width = 640, height = 480, scale = 2 })
    other:navigate(fixture .. "echo-headers")
    local echoed = belay.json.decode(other:evaluate("document.body.innerText"))
    local measured = other:evaluate("[innerWidth, innerHeight, devicePixelRatio, navigator.userAgent]")
    other:set_extra_headers({})
    other:navigate(fixture .. "echo-headers")
    local after = belay.json.decode(other:evaluate("document.body.innerText"))
    other:close()
    return { echoed = echoed, measured = measured, cleared = after["x-campaign"] or "gone" }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  const json& v = r.value();
  EXPECT_EQ(v["echoed"]["x-campaign"], "greet");
  EXPECT_EQ(v["echoed"]["x-try"], "2");
  EXPECT_EQ(v["echoed"]["user-agent"], "belay-test/1.0");
  EXPECT_EQ(v["measured"], json({640, 480, 2, "belay-test/1.0"}));
  EXPECT_EQ(v["cleared"], "gone");
}

TEST_P(LuaNetwork, BadSettingsAreConfigErrors) {
  auto r = h().run(with_catch(R"LUA(
    return {
      headers = catch(function() page:set_extra_headers({ ["X-N"] = 5 }) end),
      agent = catch(function() page:set_user_agent("") end),
      viewport = catch(function() page:set_viewport({ width = 640 }) end),
      key = catch(function() page:set_viewport({ width = 640, height = 480, dpr = 2 }) end),
    }
  )LUA"));
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_TRUE(LuaError(r.value()["headers"], {Kind::config}, "page:set_extra_headers", "strings"));
  EXPECT_TRUE(LuaError(r.value()["agent"], {Kind::config}, "page:set_user_agent", "empty"));
  EXPECT_TRUE(LuaError(r.value()["viewport"], {Kind::config}, "page:set_viewport", "required"));
  EXPECT_TRUE(LuaError(r.value()["key"], {Kind::config}, "page:set_viewport", "dpr"));
}

}  // namespace
}  // namespace belay::test
