// browser:* from Lua against real headless Chromium (DESIGN.md "Lua API",
// browser): new_page, pages, version, pid, restart, close, cdp, and the
// error kinds they raise, seen from C++ and from inside Lua.

#include "support/chromium.hpp"
#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;

class LuaBrowser : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaBrowser);

TEST_P(LuaBrowser, NewPageReturnsAWorkingDistinctPage) {
  auto r = h().run(R"LUA(
    local p = browser:new_page()
    p:navigate(fixture .. "page3")
    page:navigate(fixture .. "page1")
    p:evaluate("window.mark = 'p'")
    local out = { p_title = p:title(), page_title = page:title(),
                  distinct = tostring(p) ~= tostring(page) and not rawequal(p, page),
                  p_text = tostring(p),
                  page_unmarked = page:evaluate("window.mark === undefined"),
                  p_marked = p:evaluate("window.mark") }
    local targets = browser:cdp("Target.getTargets").targetInfos
    for _, t in ipairs(targets) do
      if "page(" .. t.targetId .. ")" == tostring(p) then out.target_url = t.url end
    end
    p:close()
    return out
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["p_title"], "Page 3");
  EXPECT_EQ(r.value()["page_title"], "Page 1");
  EXPECT_EQ(r.value()["distinct"], true);
  EXPECT_EQ(r.value()["page_unmarked"], true);
  EXPECT_EQ(r.value()["p_marked"], "p");
  EXPECT_EQ(r.value()["target_url"], h().fixture().url("/page3"))
      << "the new page is a real target of its own: " << r.value();
}

TEST_P(LuaBrowser, PagesListsTheOpenPages) {
  auto r = h().run(R"LUA(
    local n0 = #browser:pages()
    local p = browser:new_page()
    p:navigate(fixture .. "page2")
    local list = browser:pages()
    local found_url
    for _, q in ipairs(list) do
      if tostring(q) == tostring(p) then found_url = q:url() end
    end
    p:close()
    return { n0 = n0, n1 = #list, n2 = #browser:pages(), found_url = found_url }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_GE(r.value()["n0"].get<int>(), 1);
  EXPECT_EQ(r.value()["n1"].get<int>(), r.value()["n0"].get<int>() + 1);
  EXPECT_EQ(r.value()["n2"], r.value()["n0"]);
  EXPECT_EQ(r.value()["found_url"], h().fixture().url("/page2"));
}

// pages() answers without asking the browser, i.e. before the script has
// yielded; the next call must still work.
TEST_P(LuaBrowser, CallsAfterPagesStillWork) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page1")
    local n = #browser:pages()
    local ok, title = pcall(page.title, page)
    return { n = n, ok = ok, title = tostring(title) }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["ok"], true) << r.value();
  EXPECT_EQ(r.value()["title"], "Page 1");
}

TEST_P(LuaBrowser, VersionNamesChrome) {
  auto r = h().run(R"LUA(return browser:version())LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  ASSERT_TRUE(r.value().is_string());
  EXPECT_THAT(r.value().get<std::string>(), ::testing::HasSubstr("Chrome")) << r.value();
}

TEST_P(LuaBrowser, PidIsTheLaunchedProcess) {
  auto r = h().run(R"LUA(return { pid = browser:pid(), type = math.type(browser:pid()) })LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["type"], "integer");
  EXPECT_EQ(r.value()["pid"].get<int64_t>(), h().session().pid());
  EXPECT_GT(r.value()["pid"].get<int64_t>(), 0);
  EXPECT_EQ(kill(static_cast<pid_t>(r.value()["pid"].get<int64_t>()), 0), 0);
}

TEST_P(LuaBrowser, CdpGetTargetsListsThePages) {
  auto r = h().run(R"LUA(
    page:navigate(fixture .. "page2")
    local res = browser:cdp("Target.getTargets")
    local urls = {}
    for _, t in ipairs(res.targetInfos) do
      if t.type == "page" then urls[#urls + 1] = t.url end
    end
    local by_filter = browser:cdp("Target.getTargets", { filter = { { type = "page" } } })
    return { urls = urls, filtered = #by_filter.targetInfos }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  bool found = false;
  for (const auto& url : r.value()["urls"]) found = found || url == h().fixture().url("/page2");
  EXPECT_TRUE(found) << r.value();
  EXPECT_EQ(r.value()["filtered"].get<size_t>(), r.value()["urls"].size());
}

TEST_P(LuaBrowser, CdpErrorsAreProtocolOrScript) {
  auto lua = h().run(with_catch(R"LUA(
    return { unknown = catch(function() browser:cdp("No.suchMethod") end),
             bad_params = catch(function() browser:cdp("Target.getTargets", 5) end),
             no_self = catch(function() browser.version() end) }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  EXPECT_TRUE(LuaError(lua.value()["unknown"], {Kind::protocol}, "browser:cdp", "No.suchMethod"));
  EXPECT_TRUE(LuaError(lua.value()["bad_params"], {Kind::script}, "browser:cdp", "table"));
  EXPECT_TRUE(LuaError(lua.value()["no_self"], {Kind::script}, "browser:version", "browser"));
  EXPECT_TRUE(
      HostError(h().run(R"LUA(browser:cdp("No.suchMethod"))LUA"), Kind::protocol, "browser:cdp"));
}

class LuaBrowserRestart : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaBrowserRestart);

// A restart is a new process; pages of the old one are stale for good.
TEST_P(LuaBrowserRestart, RestartGivesANewProcessAndStalesOldPages) {
  pid_t new_pid = 0;
  pid_t old_pid = 0;
  {
    LuaHarness h(transport());
    old_pid = h.session().pid();
    auto lua = h.run(with_catch(R"LUA(
      page:navigate(fixture .. "page1")
      local extra = browser:new_page()
      local old_pid = browser:pid()
      browser:restart()
      local out = { old_pid = old_pid, new_pid = browser:pid(),
                    old_page = catch(function() page:title() end),
                    old_extra = catch(function() extra:navigate(fixture .. "page2") end),
                    version = browser:version() }
      local fresh = browser:new_page()
      fresh:navigate(fixture .. "page3")
      out.fresh_title = fresh:title()
      return out
    )LUA"));
    ASSERT_TRUE(lua.ok()) << ok_text(lua);
    const json& v = lua.value();
    new_pid = static_cast<pid_t>(v["new_pid"].get<int64_t>());
    EXPECT_EQ(v["old_pid"].get<int64_t>(), old_pid);
    EXPECT_GT(new_pid, 0);
    EXPECT_NE(new_pid, old_pid);
    EXPECT_EQ(h.session().pid(), new_pid);
    EXPECT_TRUE(
        LuaError(v["old_page"], {Kind::target_closed, Kind::browser_disconnected}, "page:title"));
    EXPECT_TRUE(LuaError(v["old_extra"], {Kind::target_closed, Kind::browser_disconnected},
                         "page:navigate"));
    EXPECT_THAT(v["version"].get<std::string>(), ::testing::HasSubstr("Chrome"));
    EXPECT_EQ(v["fresh_title"], "Page 3");
    EXPECT_TRUE(group_gone(old_pid)) << "the old browser's process group survived the restart";
    // The restarted browser's first page is what the next item gets.
    auto next = h.run(R"LUA(page:navigate(fixture .. "page2") return page:title())LUA");
    ASSERT_TRUE(next.ok()) << ok_text(next);
    EXPECT_EQ(next.value(), "Page 2");
  }
  if (new_pid > 0) EXPECT_TRUE(group_gone(new_pid));
}

class LuaBrowserClose : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaBrowserClose);

TEST_P(LuaBrowserClose, CloseEndsTheBrowser) {
  LuaHarness h(transport());
  const pid_t pid = h.session().pid();
  auto lua = h.run(with_catch(R"LUA(
    local pid = browser:pid()
    browser:close()
    return { pid = pid, pid_after_is_nil = browser:pid() == nil,
             version = catch(function() browser:version() end),
             new_page = catch(function() browser:new_page() end),
             cdp = catch(function() browser:cdp("Target.getTargets") end),
             title = catch(function() page:title() end) }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_EQ(v["pid"].get<int64_t>(), pid);
  EXPECT_EQ(v["pid_after_is_nil"], true);
  EXPECT_TRUE(LuaError(v["version"], {Kind::browser_disconnected}, "browser:version"));
  EXPECT_TRUE(LuaError(v["new_page"], {Kind::browser_disconnected}, "browser:new_page"));
  EXPECT_TRUE(LuaError(v["cdp"], {Kind::browser_disconnected}, "browser:cdp"));
  EXPECT_TRUE(
      LuaError(v["title"], {Kind::browser_disconnected, Kind::target_closed}, "page:title"));
  EXPECT_TRUE(group_gone(pid)) << "browser:close() left the process group running";
  EXPECT_TRUE(HostError(h.run(R"LUA(browser:version())LUA"), Kind::browser_disconnected,
                        "browser:version"));
}

// Closing what is already closed is not an error, and the script goes on.
TEST_P(LuaBrowserClose, CloseTwiceIsHarmless) {
  LuaHarness h(transport());
  auto r = h.run(R"LUA(
    browser:close()
    browser:close()
    belay.sleep(10)
    return browser:pid() == nil
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value(), true);
}

}  // namespace
}  // namespace belay::test
