// Frames from Lua against real headless Chromium: page:frames() and
// page:frame() over the fixture's /frames page, which holds /inputs twice —
// once from the same server (the page's own process) and once from a second
// fixture server reached as `localhost` (another site: an out-of-process
// iframe on a session of its own). Element actions, reads, waits and
// evaluate run in the frame; clicks land where the frame really is. Each
// test runs over the pipe and over the WebSocket.

#include "support/lua_harness.hpp"
#include "support/lua_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace belay::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class LuaFrames : public LuaTest {
 protected:
  // The second server, for the cross-site frame; stopped at exit.
  static BackgroundFixtureServer& other() {
    static BackgroundFixtureServer server;
    return server;
  }
  // Lua that opens /frames with its cross-site frame.
  std::string open_frames() {
    return "page:navigate(fixture .. 'frames?cross=' .. 'http://localhost:" +
           std::to_string(other().port()) + "/inputs')\n";
  }
};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaFrames);

TEST_P(LuaFrames, FramesListsTheMainFrameAndBothIframes) {
  auto r = h().run(open_frames() + R"LUA(
    page:frame("cross")  -- waits until the cross-site frame has its document
    page:frame("same")
    local frames = page:frames()
    local names = {}
    for i, f in ipairs(frames) do names[i] = f.name .. "=" .. f.url end
    return names
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  ASSERT_EQ(r.value().size(), 3u) << r.value();
  EXPECT_THAT(r.value()[0].get<std::string>(), HasSubstr("/frames?cross="));
  const std::string all = r.value().dump();
  EXPECT_THAT(all, HasSubstr("same=" + h().fixture().url("/inputs")));
  EXPECT_THAT(all,
              HasSubstr("cross=http://localhost:" + std::to_string(other().port()) + "/inputs"));
}

// The same steps in each frame: fill, select, check, click the submit
// button (the frame writes what it got into #echo), wait for it, read it.
TEST_P(LuaFrames, ElementActionsRunInsideTheSameSiteAndTheCrossSiteFrame) {
  auto r = h().run(open_frames() + R"LUA(
    local out = {}
    for _, name in ipairs({ "same", "cross" }) do
      local f = page:frame(name)
      f:fill("#name", "Ada " .. name)
      f:select("#color", "Blue")
      f:check("#agree")
      f:click("#submit")
      f:wait_for("#echo", { visible = true })
      out[name] = { echo = belay.json.decode(f:text("#echo")),
                    url = f:url(), trusted = f:evaluate(
                      "formEvents.some(e => e.id == 'agree' && e.trusted)") }
    end
    out.top_has_name = page:exists("#name")
    return out
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  for (const char* name : {"same", "cross"}) {
    const json& v = r.value()[name];
    EXPECT_EQ(v["echo"]["name"], std::string("Ada ") + name) << name;
    EXPECT_EQ(v["echo"]["color"], "b") << name;
    EXPECT_EQ(v["echo"]["agree"], true) << name;
    EXPECT_EQ(v["trusted"], true) << name;
  }
  EXPECT_THAT(r.value()["cross"]["url"].get<std::string>(), HasSubstr("localhost"));
  EXPECT_EQ(r.value()["top_has_name"], false);
}

TEST_P(LuaFrames, AFrameIsFoundByNameIframeSelectorOrUrlGlob) {
  auto r = h().run(open_frames() + R"LUA(
    return {
      by_selector = page:frame("#same-frame"):url(),
      by_glob = page:frame("http://localhost:*/inputs"):url(),
      by_name = page:frame("same"):evaluate("location.pathname"),
    }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["by_selector"], h().fixture().url("/inputs"));
  EXPECT_THAT(r.value()["by_glob"].get<std::string>(), HasSubstr("localhost"));
  EXPECT_EQ(r.value()["by_name"], "/inputs");
}

// A frame that reloads gets a new document and context; the frame object
// follows it, and a wait started before the reload finds its element after.
TEST_P(LuaFrames, AFrameThatReloadsIsFollowedToItsNewDocument) {
  auto r = h().run(open_frames() + R"LUA(
    local f = page:frame("same")
    f:fill("#name", "before")
    f:evaluate("window.old_document = true; setTimeout(() => location.reload(), 50)")
    -- Until the frame holds the new document (a reload under load once took
    -- longer than a fixed sleep); calls that meet the old one going away
    -- raise context_destroyed, and polling goes on.
    for _ = 1, 250 do
      local ok, old = pcall(f.evaluate, f, "window.old_document === true")
      if ok and not old then break end
      belay.sleep(20)
    end
    f:wait_for("#name")
    return { value = f:value("#name"), ready = f:evaluate("document.readyState") }
  )LUA");
  ASSERT_TRUE(r.ok()) << ok_text(r);
  EXPECT_EQ(r.value()["value"], "");
  EXPECT_EQ(r.value()["ready"], "complete");
}

TEST_P(LuaFrames, MissingAndDetachedFramesAreClearErrors) {
  auto lua = h().run(with_catch(open_frames() + R"LUA(
    local f = page:frame("same")
    local missing = catch(function() page:frame("nope", { timeout = 300 }) end)
    local bad_opt = catch(function() page:frame("same", { timout = 1 }) end)
    local bad_arg = catch(function() page:frame({}) end)
    page:evaluate("document.getElementById('same-frame').remove()")
    return {
      missing = missing, bad_opt = bad_opt, bad_arg = bad_arg,
      detached = catch(function() f:click("#submit", { timeout = 300 }) end),
      detached_eval = catch(function() f:evaluate("1") end),
    }
  )LUA"));
  ASSERT_TRUE(lua.ok()) << ok_text(lua);
  const json& v = lua.value();
  EXPECT_TRUE(
      LuaError(v["missing"], {Kind::not_found}, "page:frame",
               "no frame matches 'nope' (by name, URL glob or iframe selector) after 300 ms"));
  EXPECT_TRUE(LuaError(v["bad_opt"], {Kind::config}, "page:frame", "did you mean 'timeout'"));
  EXPECT_EQ(v["bad_arg"]["ok"], false);
  EXPECT_THAT(v["bad_arg"].dump(), HasSubstr("string expected"));
  EXPECT_TRUE(LuaError(v["detached"], {Kind::target_closed}, "page:click", "detached"));
  EXPECT_TRUE(LuaError(v["detached_eval"], {Kind::target_closed}, "page:evaluate", "detached"));
}

}  // namespace
}  // namespace belay::test
